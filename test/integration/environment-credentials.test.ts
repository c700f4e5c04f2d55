import { GetResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { credentialsSecretName } from '../../lambdas/agent-protocol/stored-credentials';
import { Environment, REDACTED } from '../../lambdas/domain/environment';
import { entityKey } from '../../lambdas/store/keys';
import { LOCAL_CREDENTIALS } from '../../local/local-aws';
import { ADMIN, type ApiHandler, callApi, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { useTestCredentials } from '../support/secrets-manager';

/**
 * The environments function as Lambda runs it (lambdas/handlers/environments.ts, configured
 * by its environment variables only) against DynamoDB Local and moto's Secrets Manager:
 * the same SDK calls as on AWS, only the endpoints differ.
 */
const table = useTestTable();
const secrets = useTestCredentials();
const READERS = ['arn:aws:iam::123456789012:role/agent', 'arn:aws:iam::123456789012:role/environments-fn'];
const KUBECONFIG = 'apiVersion: v1\nkind: Config\n# SENTINEL_KUBECONFIG_5c1e';
const PATH = '/api/v1/environments';
let handler: ApiHandler;

beforeAll(async () => {
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    ENVIRONMENT_CREDENTIALS_PREFIX: secrets.prefix,
    ENVIRONMENT_CREDENTIALS_READER_ARNS: READERS.join(','),
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  });
  ({ handler } = (await import('../../lambdas/handlers/environments')) as { handler: ApiHandler });
});

const stored = async (id: string) => {
  const text = await secrets.storedValue(id);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
};
const item = async (id: string) =>
  (
    await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: entityKey('ENVIRONMENT', id), ConsistentRead: true }),
    )
  ).Item;
const request = (config: Record<string, unknown>) => ({
  name: 'prod',
  type: 'kubernetes',
  config,
  is_active: true,
});

describe('stored credentials through the environments function', () => {
  it('create, rotate, keep with "[redacted]", drop a key, delete: the secret follows, no answer or item holds a value', async () => {
    const created = await callApi(handler, {
      method: 'POST',
      path: PATH,
      body: request({ cluster: 'c', kubeconfig: KUBECONFIG, ssh_private_key: 'KEY-1' }),
      claims: ADMIN,
    });
    expect(created.status).toBe(201);
    const environment = Environment.parse(created.body);
    expect(environment.config).toEqual({ cluster: 'c', kubeconfig: REDACTED, ssh_private_key: REDACTED });
    expect(await stored(environment.id)).toEqual({ kubeconfig: KUBECONFIG, ssh_private_key: 'KEY-1' });
    expect(JSON.stringify(await item(environment.id))).not.toContain('SENTINEL_KUBECONFIG');
    const policy = await secrets.client.send(
      new GetResourcePolicyCommand({ SecretId: credentialsSecretName(secrets.prefix, environment.id) }),
    );
    expect(JSON.parse(policy.ResourcePolicy ?? '{}')).toMatchObject({
      Statement: [
        {
          Effect: 'Deny',
          Action: 'secretsmanager:GetSecretValue',
          Condition: { StringNotEquals: { 'aws:PrincipalArn': READERS } },
        },
      ],
    });

    const path = `${PATH}/${environment.id}`;
    const rotated = await callApi(handler, {
      method: 'PUT',
      path,
      body: request({ cluster: 'c', kubeconfig: 'ROTATED', ssh_private_key: REDACTED }),
      claims: ADMIN,
    });
    expect(rotated.status).toBe(200);
    expect(await stored(environment.id)).toEqual({ kubeconfig: 'ROTATED', ssh_private_key: 'KEY-1' });

    const dropped = await callApi(handler, {
      method: 'PUT',
      path,
      body: request({ kubeconfig: REDACTED }),
      claims: ADMIN,
    });
    expect(dropped.status).toBe(200);
    expect(await stored(environment.id)).toEqual({ kubeconfig: 'ROTATED' });

    for (const answer of [
      rotated,
      dropped,
      await callApi(handler, { method: 'GET', path, claims: READER }),
    ]) {
      expect(JSON.stringify(answer.body)).not.toMatch(/ROTATED|KEY-1|SENTINEL_KUBECONFIG/);
    }

    expect((await callApi(handler, { method: 'DELETE', path, claims: ADMIN })).status).toBe(200);
    expect(await stored(environment.id)).toBeUndefined();
  });
});
