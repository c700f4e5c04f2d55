import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lambdas/domain/ids';
import { loadOrCreateSigningKeys } from '../../local/auth/keys';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, signToken } from '../../local/auth/tokens';
import { ApiClient, asObject, asObjects, asString, type Json, type JsonObject } from './support/api';
import { LocalRuntime, type Ready, tokenFromCli } from './support/local-runtime';
import { isJava, portIsFree, waitUntil } from './support/processes';
import { expectError, expectFields, expectList, expectTimestamp } from './support/shapes';

/**
 * The specification's whole journey against `npm start`, run as a newcomer runs it (a child
 * process, over real HTTP, with the tokens `npm run token` prints), ended with Ctrl-C.
 */

const REPOSITORY = 'https://github.com/org/repo';
const OTHER_REPOSITORY = 'https://github.com/org/other';
const STANDARD_TYPES = ['build', 'test', 'deploy', 'health_check'];
const BLUE_GREEN_TYPES = ['build', 'deploy_green', 'health_check', 'switch_traffic', 'cleanup_blue'];

let keysDir = '';
let runtime: LocalRuntime | undefined;
let ready: Ready;
let admin: ApiClient;
let deployer: ApiClient;
let reader: ApiClient;

/** What the journey creates, by name, for the later steps. */
const ids = new Map<string, string>();
const id = (name: string): string => {
  const value = ids.get(name);
  if (value === undefined) throw new Error(`${name} was not created by an earlier step`);
  return value;
};

const parseJson = (text: Json | undefined): JsonObject => asObject(JSON.parse(asString(text)) as Json);

function byApplicationAndStep(tasks: readonly JsonObject[], applicationId: string, type: string): JsonObject {
  const task = tasks.find((item) => item.application_id === applicationId && item.type === type);
  if (task === undefined) throw new Error(`no ${type} task of ${applicationId}`);
  return task;
}

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'e2e-journey-keys-'));
  const env = { LOCAL_KEYS_DIR: keysDir };
  runtime = new LocalRuntime({ launcher: 'npm', env });
  // `npm run token` works whether or not the server runs: these race its start on purpose.
  const [deployerToken, readerToken] = await Promise.all([
    tokenFromCli('deployer@example.com', ['deployers'], env),
    tokenFromCli('reader@example.com', [], env),
  ]);
  ready = await runtime.ready();
  admin = new ApiClient(ready.apiUrl, ready.adminToken);
  deployer = admin.as(deployerToken);
  reader = admin.as(readerToken);
}, 120_000);

afterAll(async () => {
  await runtime?.destroy();
  await rm(keysDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints the base URL, an admin token and an example call that works', async () => {
    const stdout = runtime?.stdout ?? '';
    expect(stdout).toContain(`API        ${ready.apiUrl}`);
    expect(stdout).toContain(`curl -s -X POST ${ready.apiUrl}/versions`);
    expect(stdout).toContain(`-H 'Authorization: Bearer ${ready.adminToken}'`);
    const example = /-d '(\{.*\})'/.exec(stdout)?.[1];
    if (example === undefined) throw new Error('no example body in the banner');
    const created = await admin.expect(201, 'POST', '/versions', { body: example });
    expect(created).toMatchObject({ git_tag: 'v1.0.0', created_by: 'admin@example.com' });
    await admin.expect(200, 'DELETE', `/versions/${asString(created.id)}`);
    // The whole stack is in the runtime's process tree, Java included.
    expect(runtime?.tree().some(isJava)).toBe(true);
  });
});

describe('versions', () => {
  it('creates one with the specification’s fields, created_by from the token', async () => {
    const body = {
      git_tag: 'v1.0.0',
      git_commit: 'abc123def456',
      repository: REPOSITORY,
      description: 'Release version 1.0.0',
    };
    const version = await deployer.expect(201, 'POST', '/versions', { body });
    expectFields(version, 'version');
    expect(version).toMatchObject({ ...body, created_by: 'deployer@example.com' });
    expect(version.id).toMatch(/^ver_[0-9a-z]+$/);
    expectTimestamp(version.created_at);
    expect(await reader.expect(200, 'GET', `/versions/${asString(version.id)}`)).toEqual(version);
    ids.set('v1', asString(version.id));
    const v2 = await deployer.expect(201, 'POST', '/versions', {
      body: { ...body, git_tag: 'v2.0.0', git_commit: 'def456abc789', description: 'Release 2.0.0' },
    });
    ids.set('v2', asString(v2.id));
  });

  it('lists newest first, by pages, filtered by repository', async () => {
    const created: string[] = [];
    for (const tag of ['v0.1.0', 'v0.2.0', 'v0.3.0']) {
      const version = await deployer.expect(201, 'POST', '/versions', {
        body: { git_tag: tag, git_commit: 'aaaaaa1234', repository: OTHER_REPOSITORY },
      });
      expect(version.description).toBe('');
      created.push(asString(version.id));
    }
    const filter = `repository=${encodeURIComponent(OTHER_REPOSITORY)}`;
    const first = await reader.expect(200, 'GET', `/versions?${filter}&page_size=2`);
    const firstItems = expectList(first, 'versions', 'version', {
      total: 3,
      page: 1,
      page_size: 2,
      length: 2,
    });
    const second = await reader.expect(200, 'GET', `/versions?${filter}&page_size=2&page=2`);
    const secondItems = expectList(second, 'versions', 'version', {
      total: 3,
      page: 2,
      page_size: 2,
      length: 1,
    });
    expect([...firstItems, ...secondItems].map((item) => item.id)).toEqual([...created].reverse());
    const all = await reader.expect(200, 'GET', '/versions');
    expectList(all, 'versions', 'version', { total: 5, page: 1, page_size: 20, length: 5 });
    const mine = await reader.expect(200, 'GET', `/versions?repository=${encodeURIComponent(REPOSITORY)}`);
    expect(asObjects(mine.versions).map((item) => item.git_tag)).toEqual(['v2.0.0', 'v1.0.0']);
    ids.set('unused version', created[0] ?? '');
  });

  it('deletes one for admins only, then it is gone', async () => {
    const target = id('unused version');
    expectError(await deployer.delete(`/versions/${target}`), 403, 'FORBIDDEN');
    const deleted = await admin.expect(200, 'DELETE', `/versions/${target}`);
    expectFields(deleted, 'deleted');
    expect(deleted).toEqual({ message: 'Version deleted successfully' });
    expectError(await reader.get(`/versions/${target}`), 404, 'NOT_FOUND');
    expectError(await admin.delete(`/versions/${target}`), 404, 'NOT_FOUND');
  });
});

describe('applications', () => {
  it('creates, reads and replaces one (admins only)', async () => {
    const body = {
      name: 'api-service',
      repository: REPOSITORY,
      type: 'microservice',
      config: { dockerfile: 'Dockerfile', build_args: 'arg1=value1', port: '8080' },
    };
    expectError(await deployer.post('/applications', body), 403, 'FORBIDDEN');
    const application = await admin.expect(201, 'POST', '/applications', { body });
    expectFields(application, 'application');
    expect(application).toMatchObject(body);
    expect(application.id).toMatch(/^app_[0-9a-z]+$/);
    expectTimestamp(application.created_at);
    expect(application.updated_at).toBe(application.created_at);
    const applicationId = asString(application.id);

    const update = {
      name: 'api-service-v2',
      type: 'microservice',
      config: { dockerfile: 'Dockerfile.prod', build_args: 'arg1=value2', port: '8080' },
    };
    expectError(await deployer.put(`/applications/${applicationId}`, update), 403, 'FORBIDDEN');
    const updated = await admin.expect(200, 'PUT', `/applications/${applicationId}`, { body: update });
    expectFields(updated, 'application');
    expect(updated).toMatchObject({ ...update, id: applicationId, repository: REPOSITORY });
    expect(updated.created_at).toBe(application.created_at);
    expect(asString(updated.updated_at) >= asString(application.updated_at)).toBe(true);
    expect(await reader.expect(200, 'GET', `/applications/${applicationId}`)).toEqual(updated);
    ids.set('api', applicationId);
  });

  it('lists them filtered by type and repository', async () => {
    const make = async (name: string, type: string, config: JsonObject, repository = REPOSITORY) =>
      asString(
        (await admin.expect(201, 'POST', '/applications', { body: { name, repository, type, config } })).id,
      );
    ids.set('web', await make('web-frontend', 'frontend', { port: '3000' }));
    // The simulated agent reads these from the application's config.
    ids.set('flaky', await make('flaky-service', 'microservice', { simulate_fail: 'health_check' }));
    ids.set('slow', await make('slow-service', 'microservice', { simulate_delay_ms: 60_000 }));
    ids.set('tool', await make('cli-tool', 'tool', {}, OTHER_REPOSITORY));

    const frontends = await reader.expect(200, 'GET', '/applications?type=frontend');
    const [web] = expectList(frontends, 'applications', 'application', {
      total: 1,
      page: 1,
      page_size: 20,
      length: 1,
    });
    expect(web?.id).toBe(id('web'));
    const other = await reader.expect(
      200,
      'GET',
      `/applications?repository=${encodeURIComponent(OTHER_REPOSITORY)}`,
    );
    expect(asObjects(other.applications).map((item) => item.id)).toEqual([id('tool')]);
    const both = await reader.expect(
      200,
      'GET',
      `/applications?type=microservice&repository=${encodeURIComponent(REPOSITORY)}&page_size=2`,
    );
    expectList(both, 'applications', 'application', { total: 3, page: 1, page_size: 2, length: 2 });
    const all = await reader.expect(200, 'GET', '/applications');
    expect(all.total).toBe(5);
  });

  it('deletes one', async () => {
    expectError(await deployer.delete(`/applications/${id('tool')}`), 403, 'FORBIDDEN');
    expect(await admin.expect(200, 'DELETE', `/applications/${id('tool')}`)).toEqual({
      message: 'Application deleted successfully',
    });
    expectError(await reader.get(`/applications/${id('tool')}`), 404, 'NOT_FOUND');
  });
});

describe('environments', () => {
  it('creates one whose credentials are write-only', async () => {
    const body = {
      name: 'production',
      type: 'kubernetes',
      config: { cluster: 'prod-cluster', namespace: 'default', kubeconfig: 'base64_encoded_config' },
      is_active: true,
    };
    expectError(await deployer.post('/environments', body), 403, 'FORBIDDEN');
    const environment = await admin.expect(201, 'POST', '/environments', { body });
    expectFields(environment, 'environment');
    expect(environment).toMatchObject({
      ...body,
      config: { cluster: 'prod-cluster', namespace: 'default', kubeconfig: '[redacted]' },
    });
    expect(environment.id).toMatch(/^env_[0-9a-z]+$/);
    expectTimestamp(environment.created_at);
    expectTimestamp(environment.updated_at);
    const environmentId = asString(environment.id);
    expect(JSON.stringify(await reader.expect(200, 'GET', `/environments/${environmentId}`))).not.toContain(
      'base64_encoded_config',
    );

    const update = {
      name: 'production',
      type: 'kubernetes',
      config: {
        cluster: 'prod-cluster-v2',
        namespace: 'production',
        kubeconfig: 'base64_encoded_config_new',
      },
      is_active: true,
    };
    const updated = await admin.expect(200, 'PUT', `/environments/${environmentId}`, { body: update });
    expectFields(updated, 'environment');
    expect(updated).toMatchObject({
      id: environmentId,
      config: { cluster: 'prod-cluster-v2', namespace: 'production', kubeconfig: '[redacted]' },
      created_at: environment.created_at,
    });
    ids.set('production', environmentId);
  });

  it('lists them filtered by type and is_active', async () => {
    const make = async (name: string, type: string, config: JsonObject, isActive = true) =>
      asString(
        (
          await admin.expect(201, 'POST', '/environments', {
            body: { name, type, config, is_active: isActive },
          })
        ).id,
      );
    ids.set('staging', await make('staging', 'physical', { hosts: 'host-1,host-2' }, false));
    ids.set('blue-green', await make('bg', 'kubernetes', { deployment_strategy: 'blue-green' }));
    ids.set('flaky-env', await make('flaky', 'kubernetes', {}));
    ids.set('slow-env', await make('slow', 'kubernetes', {}));

    const physical = await reader.expect(200, 'GET', '/environments?type=physical');
    const [staging] = expectList(physical, 'environments', 'environment', {
      total: 1,
      page: 1,
      page_size: 20,
      length: 1,
    });
    expect(staging).toMatchObject({ id: id('staging'), is_active: false });
    const inactive = await reader.expect(200, 'GET', '/environments?is_active=false');
    expect(asObjects(inactive.environments).map((item) => item.id)).toEqual([id('staging')]);
    const active = await reader.expect(
      200,
      'GET',
      '/environments?is_active=true&type=kubernetes&page_size=3',
    );
    expectList(active, 'environments', 'environment', { total: 4, page: 1, page_size: 3, length: 3 });
  });
});

describe('deployments', () => {
  it('runs a two-application standard deployment to success, with every task', async () => {
    const request = {
      version_id: id('v1'),
      application_ids: [id('api'), id('web')],
      environment_id: id('production'),
    };
    expectError(await reader.post('/deployments', request), 403, 'FORBIDDEN');
    const created = await deployer.expect(201, 'POST', '/deployments', { body: request });
    expectFields(created, 'deployment');
    expect(created).toMatchObject({
      ...request,
      status: 'pending',
      created_by: 'deployer@example.com',
      started_at: null,
      completed_at: null,
      error_message: '',
      strategy: 'standard',
      rollback_of: null,
    });
    expect(created.id).toMatch(/^dep_[0-9a-z]+$/);
    expectTimestamp(created.created_at);
    const deploymentId = asString(created.id);
    ids.set('standard deployment', deploymentId);

    const done = await reader.waitForDeployment(deploymentId);
    expectFields(done, 'deployment');
    expect(done).toMatchObject({
      ...request,
      status: 'success',
      error_message: '',
      created_at: created.created_at,
    });
    expectTimestamp(done.started_at);
    expectTimestamp(done.completed_at);
    expect(asString(done.completed_at) >= asString(done.started_at)).toBe(true);

    const tasks = await reader.tasksOf(deploymentId);
    expect(tasks).toHaveLength(8);
    for (const applicationId of [id('api'), id('web')]) {
      const chain = STANDARD_TYPES.map((type) => byApplicationAndStep(tasks, applicationId, type));
      chain.forEach((task, index) => {
        expectFields(task, 'task');
        expect(task).toMatchObject({
          deployment_id: deploymentId,
          application_id: applicationId,
          status: 'success',
          step_id: STANDARD_TYPES[index],
          attempt: 1,
          depends_on: index === 0 ? [] : [chain[index - 1]?.id],
        });
        expect(task.id).toMatch(/^task_[0-9a-z]+$/);
        for (const field of ['created_at', 'updated_at', 'started_at', 'completed_at'] as const)
          expectTimestamp(task[field]);
        expect(parseJson(task.payload)).toMatchObject({
          step: STANDARD_TYPES[index],
          type: STANDARD_TYPES[index],
          application: { id: applicationId },
          environment: { id: id('production'), name: 'production', type: 'kubernetes' },
          version: { id: id('v1'), git_tag: 'v1.0.0', git_commit: 'abc123def456', repository: REPOSITORY },
          secret_keys: ['kubeconfig'],
        });
        // Credentials never travel to the agent.
        expect(asString(task.payload)).not.toContain('base64_encoded_config');
      });
    }
    // The simulated agent's answers: the image from the version's tag, the status it saw, …
    const build = byApplicationAndStep(tasks, id('api'), 'build');
    expect(parseJson(build.payload).config).toMatchObject({
      dockerfile: 'Dockerfile.prod',
      tags: ['api-service-v2:v1.0.0', 'api-service-v2:latest'],
      cluster: 'prod-cluster-v2',
    });
    expect(parseJson(build.result)).toMatchObject({ image: 'api-service-v2:v1.0.0' });
    expect(parseJson(byApplicationAndStep(tasks, id('web'), 'build').result)).toMatchObject({
      image: 'web-frontend:v1.0.0',
    });
    expect(parseJson(byApplicationAndStep(tasks, id('api'), 'test').result)).toMatchObject({ failed: 0 });
    expect(parseJson(byApplicationAndStep(tasks, id('api'), 'deploy').result)).toMatchObject({ replicas: 3 });
    expect(parseJson(byApplicationAndStep(tasks, id('api'), 'health_check').result)).toEqual({
      status: 200,
      endpoint: '/health',
    });

    const task = byApplicationAndStep(tasks, id('web'), 'deploy');
    expect(await reader.expect(200, 'GET', `/tasks/${asString(task.id)}`)).toEqual(task);
    const builds = await reader.expect(200, 'GET', `/tasks?deployment_id=${deploymentId}&type=build`);
    expectList(builds, 'tasks', 'task', { total: 2, page: 1, page_size: 20, length: 2 });
    const succeeded = await reader.expect(
      200,
      'GET',
      `/tasks?deployment_id=${deploymentId}&status=success&page_size=5`,
    );
    expectList(succeeded, 'tasks', 'task', { total: 8, page: 1, page_size: 5, length: 5 });
  });

  it('runs the blue-green template, the environment’s default strategy', async () => {
    const created = await deployer.expect(201, 'POST', '/deployments', {
      body: { version_id: id('v1'), application_ids: [id('api')], environment_id: id('blue-green') },
    });
    expect(created).toMatchObject({ strategy: 'blue-green', status: 'pending' });
    const deploymentId = asString(created.id);
    expect(await reader.waitForDeployment(deploymentId)).toMatchObject({ status: 'success' });
    const tasks = await reader.tasksOf(deploymentId);
    expect(tasks.map((task) => task.type).sort()).toEqual([...BLUE_GREEN_TYPES].sort());
    for (const task of tasks) {
      expectFields(task, 'task');
      expect(task.status).toBe('success');
    }
    const result = (type: string) => parseJson(byApplicationAndStep(tasks, id('api'), type).result);
    expect(result('deploy_green')).toMatchObject({ environment: 'green' });
    expect(result('health_check')).toMatchObject({ status: 200, target: 'green' });
    expect(result('switch_traffic')).toEqual({ from: 'blue', to: 'green' });
    expect(result('cleanup_blue')).toEqual({ removed: 'blue' });
    expect(byApplicationAndStep(tasks, id('api'), 'switch_traffic').depends_on).toEqual([
      byApplicationAndStep(tasks, id('api'), 'health_check').id,
    ]);
  });

  it('fails on a failing health check, and retrying the task resumes it to success', async () => {
    const created = await deployer.expect(201, 'POST', '/deployments', {
      body: { version_id: id('v1'), application_ids: [id('flaky')], environment_id: id('flaky-env') },
    });
    const deploymentId = asString(created.id);
    const failed = await reader.waitForDeployment(deploymentId);
    expect(failed.status).toBe('failed');
    expect(failed.error_message).toMatch(/health_check.*HealthCheckFailed/);
    expectTimestamp(failed.completed_at);

    const tasks = await reader.tasksOf(deploymentId);
    const healthCheck = byApplicationAndStep(tasks, id('flaky'), 'health_check');
    const build = byApplicationAndStep(tasks, id('flaky'), 'build');
    expect(healthCheck).toMatchObject({ status: 'failed', attempt: 1 });
    expect(parseJson(healthCheck.result)).toMatchObject({ error: 'HealthCheckFailed' });
    expect(tasks.filter((task) => task.status === 'success')).toHaveLength(3);
    const failedTasks = await reader.expect(200, 'GET', `/tasks?status=failed&type=health_check`);
    expect(asObjects(failedTasks.tasks).map((task) => task.id)).toContain(healthCheck.id);

    const healthCheckId = asString(healthCheck.id);
    expectError(await reader.post(`/tasks/${healthCheckId}/retry`), 403, 'FORBIDDEN');
    expectError(await deployer.post(`/tasks/${asString(build.id)}/retry`), 409, 'CONFLICT');
    expectError(
      await deployer.post(`/tasks/${healthCheckId}/retry`, { force: true }),
      400,
      'VALIDATION_ERROR',
    );
    const retried = await deployer.expect(200, 'POST', `/tasks/${healthCheckId}/retry`, { body: {} });
    expectFields(retried, 'task');
    expect(retried).toMatchObject({
      id: healthCheckId,
      deployment_id: deploymentId,
      type: 'health_check',
      status: 'pending',
      payload: healthCheck.payload,
      result: '',
      started_at: null,
      completed_at: null,
      created_at: healthCheck.created_at,
    });

    const resumed = await reader.waitForDeployment(deploymentId);
    expect(resumed).toMatchObject({ status: 'success', error_message: '' });
    const after = await reader.tasksOf(deploymentId);
    expect(byApplicationAndStep(after, id('flaky'), 'health_check')).toMatchObject({
      status: 'success',
      attempt: 2,
    });
    // Finished work is not done again.
    expect(byApplicationAndStep(after, id('flaky'), 'build')).toEqual(build);
  });

  it('cancels a slow deployment, which frees its environment', async () => {
    const request = { version_id: id('v1'), application_ids: [id('slow')], environment_id: id('slow-env') };
    const created = await deployer.expect(201, 'POST', '/deployments', { body: request });
    const deploymentId = asString(created.id);
    await reader.waitFor(
      `/tasks?deployment_id=${deploymentId}&status=running`,
      (list) => list.total === 1,
      'the slow build to run',
    );
    expect(await reader.expect(200, 'GET', `/deployments/${deploymentId}`)).toMatchObject({
      status: 'running',
      completed_at: null,
    });

    // While it runs, its environment is taken and what it uses cannot be deleted.
    const busy = expectError(await deployer.post('/deployments', request), 409, 'CONFLICT');
    expect(busy.details).toEqual({ deployment_id: deploymentId });
    expectError(await admin.delete(`/versions/${id('v1')}`), 409, 'CONFLICT');
    expectError(await admin.delete(`/applications/${id('slow')}`), 409, 'CONFLICT');
    expectError(await admin.delete(`/environments/${id('slow-env')}`), 409, 'CONFLICT');

    expectError(await reader.post(`/deployments/${deploymentId}/cancel`), 403, 'FORBIDDEN');
    const cancelled = await deployer.expect(200, 'POST', `/deployments/${deploymentId}/cancel`, { body: {} });
    expectFields(cancelled, 'cancel');
    expect(cancelled).toEqual({
      id: deploymentId,
      status: 'failed',
      error_message: 'Deployment cancelled by user',
    });
    const after = await reader.expect(200, 'GET', `/deployments/${deploymentId}`);
    expect(after).toMatchObject({ status: 'failed', error_message: 'Deployment cancelled by user' });
    expectTimestamp(after.completed_at);
    const tasks = await reader.tasksOf(deploymentId);
    expect(tasks.map((task) => task.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expectError(await deployer.post(`/deployments/${deploymentId}/cancel`), 409, 'CONFLICT');

    // The environment is free again: another deployment to it runs to the end.
    const next = await deployer.expect(201, 'POST', '/deployments', {
      body: { ...request, application_ids: [id('web')] },
    });
    expect(await reader.waitForDeployment(asString(next.id))).toMatchObject({ status: 'success' });
    ids.set('cancelled deployment', deploymentId);
  });

  it('rolls back: a new deployment of the same applications at the target version', async () => {
    const upgrade = await deployer.expect(201, 'POST', '/deployments', {
      body: {
        version_id: id('v2'),
        application_ids: [id('api'), id('web')],
        environment_id: id('production'),
      },
    });
    const upgradeId = asString(upgrade.id);
    expect(await reader.waitForDeployment(upgradeId)).toMatchObject({ status: 'success' });

    expectError(
      await deployer.post(`/deployments/${upgradeId}/rollback`, { target_version_id: newId('version') }),
      404,
      'NOT_FOUND',
    );
    expectError(await deployer.post(`/deployments/${upgradeId}/rollback`, {}), 400, 'VALIDATION_ERROR');
    expectError(
      await reader.post(`/deployments/${upgradeId}/rollback`, { target_version_id: id('v1') }),
      403,
      'FORBIDDEN',
    );
    const rollback = await deployer.expect(201, 'POST', `/deployments/${upgradeId}/rollback`, {
      body: { target_version_id: id('v1') },
    });
    expectFields(rollback, 'deployment');
    expect(rollback).toMatchObject({
      version_id: id('v1'),
      application_ids: [id('api'), id('web')],
      environment_id: id('production'),
      status: 'pending',
      created_by: 'deployer@example.com',
      started_at: null,
      completed_at: null,
      error_message: '',
      strategy: 'standard',
      rollback_of: upgradeId,
    });
    expect(rollback.id).not.toBe(upgradeId);
    expect(await reader.waitForDeployment(asString(rollback.id))).toMatchObject({ status: 'success' });
    const build = byApplicationAndStep(await reader.tasksOf(asString(rollback.id)), id('api'), 'build');
    expect(parseJson(build.result)).toMatchObject({ image: 'api-service-v2:v1.0.0' });
    ids.set('rollback', asString(rollback.id));
  });

  it('lists deployments newest first, by pages and filters', async () => {
    const all = await reader.expect(200, 'GET', '/deployments?page_size=4');
    const items = expectList(all, 'deployments', 'deployment', {
      total: 7,
      page: 1,
      page_size: 4,
      length: 4,
    });
    expect(items[0]?.id).toBe(id('rollback'));
    const rest = await reader.expect(200, 'GET', '/deployments?page_size=4&page=2');
    expectList(rest, 'deployments', 'deployment', { total: 7, page: 2, page_size: 4, length: 3 });
    const ordered = [...items, ...asObjects(rest.deployments)].map((item) => asString(item.id));
    expect(ordered).toEqual([...ordered].sort().reverse());

    const failed = await reader.expect(200, 'GET', '/deployments?status=failed');
    expect(asObjects(failed.deployments).map((item) => item.id)).toEqual([id('cancelled deployment')]);
    const production = await reader.expect(200, 'GET', `/deployments?environment_id=${id('production')}`);
    expect(production.total).toBe(3);
    const atV2 = await reader.expect(
      200,
      'GET',
      `/deployments?version_id=${id('v2')}&environment_id=${id('production')}&status=success`,
    );
    expect(atV2.total).toBe(1);
    const page = await reader.expect(200, 'GET', '/deployments?page=9');
    expectList(page, 'deployments', 'deployment', { total: 7, page: 9, page_size: 20, length: 0 });
  });

  it('refuses a deployment to an inactive environment or of unknown things', async () => {
    const request = { version_id: id('v1'), application_ids: [id('api')], environment_id: id('staging') };
    expectError(await deployer.post('/deployments', request), 409, 'CONFLICT');
    expectError(
      await deployer.post('/deployments', {
        ...request,
        environment_id: id('slow-env'),
        version_id: newId('version'),
      }),
      404,
      'NOT_FOUND',
    );
    expectError(
      await deployer.post('/deployments', {
        ...request,
        environment_id: id('slow-env'),
        application_ids: [newId('application')],
      }),
      404,
      'NOT_FOUND',
    );
    expectError(await reader.get('/deployments/dep_unknown'), 404, 'NOT_FOUND');
    expectError(await reader.get('/tasks/task_unknown'), 404, 'NOT_FOUND');
    expectError(await deployer.post('/tasks/task_unknown/retry'), 404, 'NOT_FOUND');
  });
});

describe('authentication and roles', () => {
  it('answers 401 without a token and with a bad, foreign or expired one', async () => {
    const keys = await loadOrCreateSigningKeys(keysDir);
    const expired = await signToken(keys, {
      email: 'admin@example.com',
      groups: ['admins'],
      issuedAt: Math.floor(Date.now() / 1000) - 13 * 3600,
    });
    const other = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ email: 'admin@example.com', 'cognito:groups': ['admins'] })
      .setProtectedHeader({ alg: 'RS256', kid: keys.keyId })
      .setSubject('someone')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(other.privateKey);
    for (const token of [null, '', 'not-a-jwt', `${ready.adminToken}x`, foreign, expired]) {
      for (const [method, path] of [
        ['GET', '/versions'],
        ['POST', '/deployments'],
        ['GET', `/tasks/${id('v1')}`],
      ] as const) {
        const reply = await admin.call(method, path, { token, body: method === 'POST' ? {} : undefined });
        expectError(reply, 401, 'UNAUTHORIZED');
      }
    }
    const authorization = await admin.call('GET', '/versions', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    });
    expectError(authorization, 401, 'UNAUTHORIZED');
  });

  it('lets anyone signed in read, deployers deploy, and only admins manage', async () => {
    for (const path of ['/versions', '/applications', '/environments', '/deployments', '/tasks']) {
      expect((await reader.get(path)).status).toBe(200);
    }
    const version = { git_tag: 'v9', git_commit: 'abcdef1', repository: REPOSITORY };
    expectError(await reader.post('/versions', version), 403, 'FORBIDDEN');
    expectError(
      await reader.post(`/deployments/${id('rollback')}/rollback`, { target_version_id: id('v1') }),
      403,
      'FORBIDDEN',
    );
    expectError(await deployer.post('/environments', { name: 'x', type: 'physical' }), 403, 'FORBIDDEN');
    expectError(await deployer.put(`/environments/${id('staging')}`, {}), 403, 'FORBIDDEN');
    expectError(await deployer.delete(`/environments/${id('staging')}`), 403, 'FORBIDDEN');
    const forbidden = expectError(await reader.delete(`/applications/${id('web')}`), 403, 'FORBIDDEN');
    expect(forbidden.message).toContain('admins');
    // Admins do everything.
    expect(await admin.expect(200, 'DELETE', `/environments/${id('staging')}`)).toEqual({
      message: 'Environment deleted successfully',
    });
  });
});

describe('malformed and invalid input', () => {
  it('answers 400 naming each bad field', async () => {
    const malformed = expectError(await deployer.post('/versions', '{"git_tag": '), 400, 'VALIDATION_ERROR');
    expect(malformed.details).toEqual([{ field: 'body', message: 'Malformed JSON' }]);

    const invalid = expectError(
      await deployer.post('/versions', { git_tag: '', git_commit: 'not-hex', repository: '', extra: 1 }),
      400,
      'VALIDATION_ERROR',
    );
    const fields = asObjects(invalid.details).map((issue) => issue.field);
    expect(fields).toEqual(expect.arrayContaining(['git_tag', 'git_commit', 'repository']));
    expect(fields.length).toBeGreaterThanOrEqual(4);

    const environment = expectError(
      await admin.post('/environments', { name: 'vm', type: 'vm', is_active: 'yes' }),
      400,
      'VALIDATION_ERROR',
    );
    expect(
      asObjects(environment.details)
        .map((issue) => issue.field)
        .sort(),
    ).toEqual(['is_active', 'type']);

    const deployment = expectError(
      await deployer.post('/deployments', { version_id: id('v1'), application_ids: [], environment_id: 7 }),
      400,
      'VALIDATION_ERROR',
    );
    expect(
      asObjects(deployment.details)
        .map((issue) => issue.field)
        .sort(),
    ).toEqual(['application_ids', 'environment_id']);
    expectError(
      await deployer.post('/deployments', {
        version_id: id('v1'),
        application_ids: [id('api'), id('api')],
        environment_id: id('production'),
      }),
      400,
      'VALIDATION_ERROR',
    );
    expectError(await deployer.post('/deployments', [1, 2]), 400, 'VALIDATION_ERROR');
    expectError(await deployer.post('/deployments'), 400, 'VALIDATION_ERROR');
  });

  it('answers 400 for bad list parameters', async () => {
    for (const [query, field] of [
      ['page=0', 'page'],
      ['page=1001', 'page'],
      ['page_size=101', 'page_size'],
      ['page=abc', 'page'],
      ['unknown=1', 'query'],
      ['status=done', 'status'],
    ]) {
      const error = expectError(await reader.get(`/deployments?${query}`), 400, 'VALIDATION_ERROR');
      expect(
        asObjects(error.details).map((issue) => issue.field),
        query,
      ).toEqual([field]);
    }
    expectError(await reader.get('/environments?is_active=maybe'), 400, 'VALIDATION_ERROR');
  });

  it('answers 404 for unknown ids and paths, and 413 for a body too large', async () => {
    expectError(await reader.get('/versions/ver_00000000000000000000000000'), 404, 'NOT_FOUND');
    expectError(await reader.get('/applications/app_unknown'), 404, 'NOT_FOUND');
    expectError(
      await admin.put('/environments/env_unknown', {
        name: 'n',
        type: 'physical',
        config: {},
        is_active: true,
      }),
      404,
      'NOT_FOUND',
    );
    expectError(await reader.get('/nothing-here'), 404, 'NOT_FOUND');
    expectError(await reader.call('PATCH', `/versions/${id('v1')}`), 404, 'NOT_FOUND');
    const big = {
      git_tag: 'v1',
      git_commit: 'abcdef1',
      repository: REPOSITORY,
      description: 'x'.repeat(200_000),
    };
    expectError(await deployer.post('/versions', big), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('Ctrl-C', () => {
  it('stops everything within seconds: no process left behind (Java included), the port free again', async () => {
    if (runtime === undefined) throw new Error('no runtime');
    const stack = runtime;
    expect(stack.tree().some(isJava)).toBe(true);
    expect(await portIsFree(ready.port)).toBe(false);
    stack.signalGroup('SIGINT');
    const exit = await stack.exit(20_000);
    // npm, hit by the same Ctrl-C, may end before the runtime has finished stopping.
    await waitUntil('every process of the runtime to stop', () => stack.leftovers().length === 0, 15_000);
    // The runtime stopped in order; npm then ends itself by the signal, as shells do (a
    // run through tsx alone exits 0: see lifecycle.test.ts).
    expect(exit.code === 0 || exit.signal === 'SIGINT').toBe(true);
    expect(stack.stdout).toContain('SIGINT: stopping the local stack');
    expect(stack.stderr).not.toMatch(/error/i);
    expect(await portIsFree(ready.port)).toBe(true);
  });
});
