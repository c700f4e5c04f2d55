import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { newId } from '../../lambdas/domain/ids';
import { migrateCredentials } from '../../lambdas/services/credentials-migration';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import { createEnvironmentRepository } from '../../lambdas/store/environment-repository';
import { entityKey, indexAttributes } from '../../lambdas/store/keys';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import { ADMIN, callApi, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { useTestCredentials } from '../support/secrets-manager';

/** Environments stored before the credentials store: they keep working and move on first write or by the command. */
const table = useTestTable();
const secrets = useTestCredentials();
const store = { client: table.documentClient, tableName: table.tableName };
const repository = createEnvironmentRepository(store);
const handler = createEnvironmentsHandler(
  createEnvironmentService(
    repository,
    createUsageGuard(store),
    secrets.credentials,
    createCredentialAccessLog(store),
  ),
);
const run = promisify(execFile);

/** An item as the service wrote it before: values in `secret_config`, the marker in config. */
async function legacyItem(
  config: Record<string, unknown>,
  secretConfig: Record<string, unknown>,
): Promise<string> {
  const id = newId('environment');
  const at = '2026-11-01T10:00:00Z';
  await table.documentClient.send(
    new PutCommand({
      TableName: table.tableName,
      Item: {
        ...entityKey('ENVIRONMENT', id),
        ...indexAttributes('ENVIRONMENT', id, { type: 'kubernetes', is_active: true }),
        id,
        name: `legacy-${id}`,
        type: 'kubernetes',
        config,
        is_active: true,
        created_at: at,
        updated_at: at,
        secret_config: secretConfig,
        revision: 1,
      },
    }),
  );
  return id;
}

const item = async (id: string) =>
  (
    await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: entityKey('ENVIRONMENT', id), ConsistentRead: true }),
    )
  ).Item;
const stored = async (id: string) => {
  const text = await secrets.storedValue(id);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
};

describe('an environment whose item still holds its secret values', () => {
  it('answers redacted, and its first PUT keeps "[redacted]" values from the item and moves them into the secret', async () => {
    const id = await legacyItem({ cluster: 'c', kubeconfig: '[redacted]' }, { kubeconfig: 'LEGACY_KUBE_1' });
    const got = await callApi(handler, { method: 'GET', path: `/api/v1/environments/${id}`, claims: READER });
    expect(got.body).toMatchObject({ config: { cluster: 'c', kubeconfig: '[redacted]' } });
    expect(JSON.stringify(got.body)).not.toContain('LEGACY_KUBE_1');

    const put = await callApi(handler, {
      method: 'PUT',
      path: `/api/v1/environments/${id}`,
      body: {
        name: 'renamed',
        type: 'kubernetes',
        config: { cluster: 'c2', kubeconfig: '[redacted]' },
        is_active: true,
      },
      claims: ADMIN,
    });
    expect(put.status).toBe(200);
    expect(await stored(id)).toEqual({ kubeconfig: 'LEGACY_KUBE_1' });
    const after = await item(id);
    expect(after?.secret_config).toBeUndefined();
    expect(JSON.stringify(after)).not.toContain('LEGACY_KUBE_1');
  });
});

describe('migrating every environment', () => {
  it('moves the legacy values of each into its secret, counts what it did, and a second run moves nothing', async () => {
    const attribute = await legacyItem(
      { kubeconfig: '[redacted]', region: 'eu' },
      { kubeconfig: 'LEGACY_KUBE_2' },
    );
    const plain = await legacyItem({ cache_url: 'redis://:plain-pass-9@cache:6379' }, {});
    const before = await migrateCredentials(repository, secrets.credentials);
    // the environment of the first test moved on its PUT already
    expect(before).toEqual({ environments: 3, moved: 2, unchanged: 1, raced: 0 });
    expect(await stored(attribute)).toEqual({ kubeconfig: 'LEGACY_KUBE_2' });
    expect(await stored(plain)).toEqual({ cache_url: 'redis://:plain-pass-9@cache:6379' });
    for (const id of [attribute, plain]) {
      const after = await item(id);
      expect(after?.secret_config).toBeUndefined();
      expect(JSON.stringify(after)).not.toMatch(/LEGACY_KUBE_2|plain-pass-9/);
    }
    expect((await item(attribute))?.updated_at).toBe('2026-11-01T10:00:00Z');
    expect(await migrateCredentials(repository, secrets.credentials)).toEqual({
      environments: 3,
      moved: 0,
      unchanged: 3,
      raced: 0,
    });
  });

  it('npm run migrate-credentials -- <table> prints its counts', async () => {
    await legacyItem({ token: '[redacted]' }, { token: 'LEGACY_TOKEN_3' });
    const { stdout } = await run('npx', ['tsx', 'scripts/migrate-credentials.ts', table.tableName], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        ENVIRONMENT_CREDENTIALS_PREFIX: secrets.prefix,
      },
    });
    expect(stdout).toContain(
      `${table.tableName}: 4 environments, 1 moved to secrets under ${secrets.prefix}, 3 unchanged`,
    );
  });
});
