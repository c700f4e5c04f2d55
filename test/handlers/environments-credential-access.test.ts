import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { credentialAccessItem } from '../../lambdas/agent-protocol/stored-credentials';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { CredentialAccessResponse } from '../../lambdas/domain/credential-access';
import { Environment } from '../../lambdas/domain/environment';
import { newId } from '../../lambdas/domain/ids';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import { createEnvironmentRepository } from '../../lambdas/store/environment-repository';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { ADMIN, type Claims, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { useTestCredentials } from '../support/secrets-manager';

/** GET /environments/{id}/credential-access: the agents' fetch records, for admins. */
const table = useTestTable();
const secrets = useTestCredentials();
const store = { client: table.documentClient, tableName: table.tableName };
const handler = createEnvironmentsHandler(
  createEnvironmentService(
    createEnvironmentRepository(store),
    createUsageGuard(store),
    secrets.credentials,
    createCredentialAccessLog(store),
  ),
);

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

async function environmentWithAccesses(count: number): Promise<Environment> {
  const created = await callApi(handler, {
    method: 'POST',
    path: '/api/v1/environments',
    body: { name: 'prod', type: 'kubernetes', config: { kubeconfig: 'KUBE' } },
    claims: ADMIN,
  });
  const environment = Environment.parse(created.body);
  for (let index = 0; index < count; index += 1) {
    // as an agent writes it (PutItem under CREDACCESS#)
    await table.documentClient.send(
      new PutCommand({
        TableName: table.tableName,
        Item: credentialAccessItem(
          {
            environmentId: environment.id,
            taskId: `tsk_${index}`,
            deploymentId: 'dep_1',
            attempt: 1,
            agentId: `agent-${index % 2}`,
            keys: ['kubeconfig'],
            usedFor: index === 0 ? 'none' : 'kubernetes',
          },
          T0 + index * 1000,
        ),
      }),
    );
  }
  return environment;
}

const read = (id: string, query: Record<string, string> = {}, claims: Claims = ADMIN) =>
  callApi(handler, { method: 'GET', path: `/api/v1/environments/${id}/credential-access`, query, claims });

describe('GET /api/v1/environments/{id}/credential-access', () => {
  it('answers the records newest first, paged by cursor, with no value', async () => {
    const environment = await environmentWithAccesses(5);
    const first = await read(environment.id, { limit: '2' });
    expect(first.status).toBe(200);
    const page1 = CredentialAccessResponse.parse(first.body);
    expect(page1.accesses).toEqual([
      {
        at: '2026-12-01T10:00:04.000Z',
        agent_id: 'agent-0',
        task_id: 'tsk_4',
        deployment_id: 'dep_1',
        attempt: 1,
        keys: ['kubeconfig'],
        used_for: 'kubernetes',
      },
      expect.objectContaining({ task_id: 'tsk_3', agent_id: 'agent-1' }),
    ]);
    const seen = [...page1.accesses.map((access) => access.task_id)];
    let cursor = page1.next_cursor;
    while (cursor !== null) {
      const next = CredentialAccessResponse.parse((await read(environment.id, { limit: '2', cursor })).body);
      seen.push(...next.accesses.map((access) => access.task_id));
      cursor = next.next_cursor;
    }
    expect(seen).toEqual(['tsk_4', 'tsk_3', 'tsk_2', 'tsk_1', 'tsk_0']);
    expect(JSON.stringify(first.body)).not.toContain('KUBE"');
  });

  it('answers an empty list for an environment never fetched, 404 for an unknown one, 400 for a forged cursor', async () => {
    const environment = await environmentWithAccesses(0);
    expect((await read(environment.id)).body).toEqual({
      environment_id: environment.id,
      accesses: [],
      next_cursor: null,
    });
    const unknown = await read(newId('environment'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const forged = await read(environment.id, { cursor: 'not-a-cursor' });
    expect(forged.status).toBe(400);
  });

  it('is for admins only', async () => {
    const environment = await environmentWithAccesses(1);
    for (const claims of [READER, DEPLOYER]) {
      const answer = await read(environment.id, {}, claims);
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
  });
});
