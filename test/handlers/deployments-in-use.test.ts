import { describe, expect, it } from 'vitest';
import { createApplicationsHandler } from '../../lambdas/api/applications';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { ErrorResponse } from '../../lambdas/api/error-response';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { nowTimestamp } from '../../lambdas/domain/common';
import { createApplicationService } from '../../lambdas/services/application-service';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createVersionService } from '../../lambdas/services/version-service';
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import { type ApiAnswer, callApi, DEPLOYER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor, type Scene } from '../support/fake-workflows';
import { useTestCredentials } from '../support/secrets-manager';

/** What a deployment uses cannot be deleted while the deployment may still run. */
const table = useTestTable();
const world = deploymentWorld(table);
const { credentials } = useTestCredentials();
const { handlers, repositories } = world;

function expectError(answer: ApiAnswer, status: number, code: string) {
  expect(answer.status).toBe(status);
  const { error } = ErrorResponse.parse(answer.body);
  expect(error.code).toBe(code);
  return error;
}

/** DELETE of the scene's version, first application and environment, in that order. */
function deletes(setting: Scene) {
  const [application] = setting.applications;
  return [
    { handler: handlers.versions, path: `/api/v1/versions/${setting.version.id}` },
    { handler: handlers.applications, path: `/api/v1/applications/${application?.id}` },
    { handler: handlers.environments, path: `/api/v1/environments/${setting.environment.id}` },
  ];
}

const remove = ({ handler, path }: { handler: typeof handlers.versions; path: string }) =>
  callApi(handler, { method: 'DELETE', path });

describe('DELETE of what an unfinished deployment uses', () => {
  it('answers 409 naming the deployment while it is pending or running, and deletes once it finished', async () => {
    const setting = await world.scene(2);
    const deployment = await world.deploy(requestFor(setting));
    for (const target of deletes(setting)) {
      const error = expectError(await remove(target), 409, 'CONFLICT');
      expect(error.message).toContain(deployment.id);
      expect(error.details).toEqual({ deployment_id: deployment.id });
      expect((await callApi(target.handler, { method: 'GET', path: target.path })).status).toBe(200);
    }
    await world.machine.markDeploymentRunning(deployment.id, nowTimestamp());
    for (const target of deletes(setting)) expectError(await remove(target), 409, 'CONFLICT');

    await world.succeed(deployment.id);
    for (const target of deletes(setting)) {
      expect((await remove(target)).status).toBe(200);
      expect((await callApi(target.handler, { method: 'GET', path: target.path })).status).toBe(404);
    }
    // the finished deployment stays readable, and cannot be rolled back onto what is gone
    expect(
      (await callApi(handlers.deployments, { method: 'GET', path: `/api/v1/deployments/${deployment.id}` }))
        .body,
    ).toMatchObject({
      status: 'success',
      version_id: setting.version.id,
    });
    const rollback = await callApi(handlers.deployments, {
      method: 'POST',
      path: `/api/v1/deployments/${deployment.id}/rollback`,
      body: { target_version_id: setting.version.id, force: true },
      claims: DEPLOYER,
    });
    expectError(rollback, 404, 'NOT_FOUND');
  });

  it('no longer blocks deletes once the deployment is cancelled', async () => {
    const setting = await world.scene(1);
    const deployment = await world.deploy(requestFor(setting));
    const cancelled = await callApi(handlers.deployments, {
      method: 'POST',
      path: `/api/v1/deployments/${deployment.id}/cancel`,
      body: {},
    });
    expect(cancelled.status).toBe(200);
    for (const target of deletes(setting)) expect((await remove(target)).status).toBe(200);
  });

  it('keeps an environment whose lock is still held, even after its deployment is marked finished', async () => {
    const setting = await world.scene(1);
    const deployment = await world.deploy(requestFor(setting));
    const at = nowTimestamp();
    await world.machine.markDeploymentRunning(deployment.id, at);
    for (const task of await repositories.tasks.getByDeploymentId(deployment.id)) {
      await world.machine.runTask(task.id, { result: {} }, at);
    }
    // between MarkDeploymentSucceeded and ReleaseEnvironmentLock: no unfinished deployment, lock held
    await world.machine.markDeploymentFinished(deployment.id, 'success', at);
    const path = `/api/v1/environments/${setting.environment.id}`;
    const error = expectError(
      await callApi(handlers.environments, { method: 'DELETE', path }),
      409,
      'CONFLICT',
    );
    expect(error.details).toEqual({ deployment_id: deployment.id });
    expect((await callApi(handlers.environments, { method: 'GET', path })).status).toBe(200);

    await world.machine.releaseLock(deployment.id, setting.environment.id);
    expect((await callApi(handlers.environments, { method: 'DELETE', path })).status).toBe(200);
  });

  it('cannot lose a race to a deployment created between its usage check and its delete', async () => {
    const setting = await world.scene(1);
    // a guard that looked before the deployment existed
    const blind = createEnvironmentsHandler(
      createEnvironmentService(
        repositories.environments,
        { assertUnused: async () => undefined },
        credentials,
        createCredentialAccessLog({ client: table.documentClient, tableName: table.tableName }),
      ),
    );
    const deployment = await world.deploy(requestFor(setting));
    const path = `/api/v1/environments/${setting.environment.id}`;
    const error = expectError(await callApi(blind, { method: 'DELETE', path }), 409, 'CONFLICT');
    expect(error.details).toEqual({ deployment_id: deployment.id });
    expect(await repositories.environments.getById(setting.environment.id)).toBeDefined();
    expect(await repositories.deployments.lockHolder(setting.environment.id)).toBe(deployment.id);
  });

  it('keeps a version or application that a deployment started to use after the delete read it', async () => {
    /** A usage guard that finds nothing in use, while a deployment of `setting` is created right then. */
    const racing = (setting: Scene) => {
      const created: string[] = [];
      const guard = {
        assertUnused: async () => {
          created.push((await world.deploy(requestFor(setting))).id);
        },
      };
      return { guard, created };
    };

    const first = await world.scene(1);
    const versionRace = racing(first);
    const blindVersions = createVersionsHandler(
      createVersionService(repositories.versions, versionRace.guard),
    );
    const versionPath = `/api/v1/versions/${first.version.id}`;
    expectError(await callApi(blindVersions, { method: 'DELETE', path: versionPath }), 409, 'CONFLICT');
    expect(versionRace.created).toHaveLength(1);
    expect(await repositories.versions.getById(first.version.id)).toBeDefined();
    // Asked again, the real guard names the deployment.
    const again = expectError(
      await remove({ handler: handlers.versions, path: versionPath }),
      409,
      'CONFLICT',
    );
    expect(again.details).toEqual({ deployment_id: versionRace.created[0] });

    const second = await world.scene(1);
    const [application] = second.applications;
    if (!application) throw new Error('one application expected');
    const applicationRace = racing(second);
    const blindApplications = createApplicationsHandler(
      createApplicationService(repositories.applications, applicationRace.guard),
    );
    const applicationPath = `/api/v1/applications/${application.id}`;
    expectError(
      await callApi(blindApplications, { method: 'DELETE', path: applicationPath }),
      409,
      'CONFLICT',
    );
    expect(applicationRace.created).toHaveLength(1);
    expect(await repositories.applications.getById(application.id)).toBeDefined();
  });
});
