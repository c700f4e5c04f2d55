import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { Environment, REDACTED } from '../../lambdas/domain/environment';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import { createSecretsManagerCredentials } from '../../lambdas/store/environment-credentials';
import { createEnvironmentRepository } from '../../lambdas/store/environment-repository';
import { entityKey } from '../../lambdas/store/keys';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { ADMIN, callApi } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';

/** Secrets Manager failing: the API answers a 503 the client may retry, never AWS's text. */
const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };
const secretsManager = mockClient(SecretsManagerClient);
const handler = createEnvironmentsHandler(
  createEnvironmentService(
    createEnvironmentRepository(store),
    createUsageGuard(store),
    createSecretsManagerCredentials({ client: new SecretsManagerClient({}), prefix: 'faults/' }),
    createCredentialAccessLog(store),
  ),
);
const PATH = '/api/v1/environments';
const AWS_TEXT = 'Rate exceeded for account 123456789012 SENTINEL_AWS_TEXT';
const throttle = () =>
  new SecretsManagerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: AWS_TEXT,
  });
const body = {
  name: 'prod',
  type: 'kubernetes',
  config: { cluster: 'c', kubeconfig: 'KUBE_VALUE' },
  is_active: true,
};

afterEach(() => secretsManager.reset());

const expectUnavailable = (answer: { status: number; body: unknown }) => {
  expect(answer.status).toBe(503);
  expect(answer.body).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
  expect(JSON.stringify(answer.body)).not.toContain('SENTINEL_AWS_TEXT');
  expect(JSON.stringify(answer.body)).not.toContain('Throttling');
};

describe('the credentials store throttled', () => {
  it('create answers 503 and leaves no environment behind', async () => {
    secretsManager.on(PutSecretValueCommand).rejects(throttle());
    const answer = await callApi(handler, { method: 'POST', path: PATH, body, claims: ADMIN });
    expectUnavailable(answer);
    const listed = await callApi(handler, { method: 'GET', path: PATH, claims: ADMIN });
    expect(listed.body).toMatchObject({ total: 0 });
  });

  it('a PUT that keeps a value answers 503 when the secret cannot be read, and changes nothing', async () => {
    secretsManager.on(PutSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'ResourceNotFoundException',
        $fault: 'client',
        $metadata: {},
      }),
    );
    secretsManager.on(CreateSecretCommand).resolves({});
    const created = await callApi(handler, { method: 'POST', path: PATH, body, claims: ADMIN });
    expect(created.status).toBe(201);
    const environment = Environment.parse(created.body);
    secretsManager.on(GetSecretValueCommand).rejects(throttle());
    const answer = await callApi(handler, {
      method: 'PUT',
      path: `${PATH}/${environment.id}`,
      body: { ...body, name: 'renamed', config: { cluster: 'c', kubeconfig: REDACTED } },
      claims: ADMIN,
    });
    expectUnavailable(answer);
    const item = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: entityKey('ENVIRONMENT', environment.id) }),
    );
    expect(item.Item?.name).toBe('prod');
  });

  it('delete answers 503 when the secret cannot be deleted', async () => {
    secretsManager.on(PutSecretValueCommand).resolves({});
    const created = await callApi(handler, { method: 'POST', path: PATH, body, claims: ADMIN });
    const environment = Environment.parse(created.body);
    secretsManager.on(DeleteSecretCommand).rejects(throttle());
    const answer = await callApi(handler, {
      method: 'DELETE',
      path: `${PATH}/${environment.id}`,
      claims: ADMIN,
    });
    expectUnavailable(answer);
    // the retry, once the store answers, deletes the secret and says the environment is gone
    secretsManager.on(DeleteSecretCommand).resolves({});
    const retried = await callApi(handler, {
      method: 'DELETE',
      path: `${PATH}/${environment.id}`,
      claims: ADMIN,
    });
    expect(retried.status).toBe(404);
    expect(secretsManager.commandCalls(DeleteSecretCommand).at(-1)?.args[0].input).toEqual({
      SecretId: `faults/${environment.id}`,
      ForceDeleteWithoutRecovery: true,
    });
  });
});
