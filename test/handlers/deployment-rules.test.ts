import { describe, expect, it } from 'vitest';
import { ErrorResponse } from '../../lambdas/api/error-response';
import { sameRepository } from '../../lambdas/services/deployment-service';
import { callApi, DEPLOYER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor } from '../support/fake-workflows';

/** What a deployment may ship, beyond existing: a version of its applications' own repository. */
const table = useTestTable();
const world = deploymentWorld(table);

const post = (path: string, body: unknown) =>
  callApi(world.handlers.deployments, { method: 'POST', path, body, claims: DEPLOYER });

describe('versions of another repository', () => {
  it('refuses to deploy a version to an application of another repository (409 saying how to allow it)', async () => {
    const version = await world.seedVersion({ repository: 'https://github.com/org/other' });
    const application = await world.seedApplication({ name: 'api' });
    const environment = await world.seedEnvironment();
    const answer = await post('/api/v1/deployments', {
      version_id: version.id,
      application_ids: [application.id],
      environment_id: environment.id,
    });
    expect(answer.status).toBe(409);
    const { error } = ErrorResponse.parse(answer.body);
    expect(error.message).toContain('config.allow_foreign_versions');
    expect(error.message).toContain('https://github.com/org/other');
    expect(await world.repositories.deployments.lockHolder(environment.id)).toBeUndefined();
  });

  it('deploys it when the application opts in, and takes .git or a trailing slash as the same repository', async () => {
    const foreign = await world.seedVersion({ repository: 'https://github.com/org/other' });
    const optedIn = await world.seedApplication({ name: 'api', config: { allow_foreign_versions: true } });
    const environment = await world.seedEnvironment();
    const answer = await post('/api/v1/deployments', {
      version_id: foreign.id,
      application_ids: [optedIn.id],
      environment_id: environment.id,
    });
    expect(answer.status).toBe(201);
    expect(sameRepository('https://github.com/Org/Repo.git', 'https://github.com/org/repo/')).toBe(true);
    expect(sameRepository('https://github.com/org/repo', 'https://github.com/org/repo2')).toBe(false);
  });
});

describe('rollback', () => {
  it("refuses a rollback to the deployment's own version unless forced", async () => {
    const scene = await world.scene(1);
    const created = await world.deploy(requestFor(scene));
    await world.succeed(created.id);
    const path = `/api/v1/deployments/${created.id}/rollback`;
    const refused = await post(path, { target_version_id: scene.version.id });
    expect(refused.status).toBe(409);
    expect(ErrorResponse.parse(refused.body).error.message).toContain('"force": true');
    const forced = await post(path, { target_version_id: scene.version.id, force: true });
    expect(forced.status).toBe(201);
    expect(forced.body).toMatchObject({ rollback_of: created.id, version_id: scene.version.id });
  });
});
