import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { InUse } from '../../lambdas/domain/errors';
import { Version } from '../../lambdas/domain/version';
import { createVersionService } from '../../lambdas/services/version-service';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import { callApi } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';

/**
 * Deployments arrive in a later piece; these put deployment items shaped as the deployment
 * repository writes them (status in the gsi3 partition the guard reads) straight into the table.
 */
const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };
const guard = createUsageGuard(store);
const handler = createVersionsHandler(createVersionService(createVersionRepository(store), guard));

const putDeployment = (id: string, status: string, uses: { versionId?: string; environmentId?: string }) =>
  table.documentClient.send(
    new PutCommand({
      TableName: table.tableName,
      Item: {
        pk: `DEPLOYMENT#${id}`,
        sk: 'DEPLOYMENT',
        id,
        status,
        gsi3pk: `DEPLOYMENT#status=${status}`,
        gsi3sk: id,
        application_ids: ['app_a', 'app_b'],
        environment_id: uses.environmentId ?? 'env_other',
        version_id: uses.versionId ?? 'ver_other',
      },
    }),
  );

const createVersion = async () => {
  const answer = await callApi(handler, {
    method: 'POST',
    path: '/api/v1/versions',
    body: { git_tag: 'v1.0.0', git_commit: 'abc123def456', repository: 'https://github.com/org/repo' },
  });
  return Version.parse(answer.body);
};

describe('DELETE /api/v1/versions/{id} while in use', () => {
  it.each(['pending', 'running'])('answers 409 naming a %s deployment of the version', async (status) => {
    const version = await createVersion();
    const deploymentId = `dep_${status}_${version.id}`;
    await putDeployment(deploymentId, status, { versionId: version.id });
    const path = `/api/v1/versions/${version.id}`;
    const answer = await callApi(handler, { method: 'DELETE', path });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({
      error: { code: 'CONFLICT', details: { deployment_id: deploymentId } },
    });
    expect((await callApi(handler, { method: 'GET', path })).status).toBe(200);
  });

  it('deletes once every deployment of the version finished', async () => {
    const version = await createVersion();
    const deploymentId = `dep_done_${version.id}`;
    await putDeployment(deploymentId, 'running', { versionId: version.id });
    const path = `/api/v1/versions/${version.id}`;
    expect((await callApi(handler, { method: 'DELETE', path })).status).toBe(409);
    await putDeployment(deploymentId, 'success', { versionId: version.id });
    await putDeployment(`dep_failed_${version.id}`, 'failed', { versionId: version.id });
    expect(await callApi(handler, { method: 'DELETE', path })).toEqual({
      status: 200,
      body: { message: 'Version deleted successfully' },
    });
  });

  it('is not blocked by unfinished deployments of other versions', async () => {
    const version = await createVersion();
    await putDeployment(`dep_elsewhere_${version.id}`, 'running', {});
    const answer = await callApi(handler, { method: 'DELETE', path: `/api/v1/versions/${version.id}` });
    expect(answer.status).toBe(200);
  });
});

describe('UsageGuard.assertUnused', () => {
  it('matches a version, an application in application_ids, and an environment', async () => {
    await putDeployment('dep_guard_all', 'pending', {
      versionId: 'ver_guarded',
      environmentId: 'env_guarded',
    });
    for (const [kind, id] of [
      ['version', 'ver_guarded'],
      ['application', 'app_b'],
      ['environment', 'env_guarded'],
    ] as const) {
      const refusal = guard.assertUnused(kind, id);
      await expect(refusal).rejects.toBeInstanceOf(InUse);
      await expect(refusal).rejects.toMatchObject({ details: { deployment_id: 'dep_guard_all' } });
    }
    await expect(guard.assertUnused('application', 'app_unused')).resolves.toBeUndefined();
  });
});
