import { describe, expect, it } from 'vitest';
import { ErrorResponse } from '../../lambdas/api/error-response';
import { nowTimestamp } from '../../lambdas/domain/common';
import { CANCELLED_MESSAGE, Deployment } from '../../lambdas/domain/deployment';
import { newId } from '../../lambdas/domain/ids';
import { Task, TaskListResponse } from '../../lambdas/domain/task';
import { ADMIN, type ApiAnswer, type Claims, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor } from '../support/fake-workflows';

const table = useTestTable();
const world = deploymentWorld(table);
const { workflows, machine, metrics, faults, repositories, handlers } = world;

const PATH = '/api/v1/tasks';
const TASK_KEYS = [
  'completed_at',
  'created_at',
  'deployment_id',
  'id',
  'payload',
  'result',
  'started_at',
  'status',
  'type',
  'updated_at',
  // added by this service (README)
  'application_id',
  'attempt',
  'depends_on',
  'step_id',
].sort();
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function expectError(answer: ApiAnswer, status: number, code: string) {
  expect(answer.status).toBe(status);
  const { error } = ErrorResponse.parse(answer.body);
  expect(error.code).toBe(code);
  return error;
}

async function list(query: Record<string, string>) {
  const answer = await callApi(handlers.tasks, { method: 'GET', path: PATH, query, claims: READER });
  expect(answer.status).toBe(200);
  return TaskListResponse.parse(answer.body);
}

const ids = async (query: Record<string, string>) => (await list(query)).tasks.map((task) => task.id);

/** The deployment's tasks in creation order (application, then step). */
const tasksOf = (deploymentId: string) => repositories.tasks.getByDeploymentId(deploymentId);

async function task(id: string): Promise<Task> {
  const answer = await callApi(handlers.tasks, { method: 'GET', path: `${PATH}/${id}`, claims: READER });
  expect(answer.status).toBe(200);
  return Task.parse(answer.body);
}

async function deployment(id: string): Promise<Deployment> {
  const answer = await callApi(handlers.deployments, {
    method: 'GET',
    path: `/api/v1/deployments/${id}`,
    claims: READER,
  });
  expect(answer.status).toBe(200);
  return Deployment.parse(answer.body);
}

const retry = (id: string, claims: Claims = DEPLOYER) =>
  callApi(handlers.tasks, { method: 'POST', path: `${PATH}/${id}/retry`, body: {}, claims });

const lockHolder = (environmentId: string) => repositories.deployments.lockHolder(environmentId);

/** A deployment of `count` applications whose first application failed at `stepId`. */
async function failedDeployment(count = 1, stepId = 'test') {
  const setting = await world.scene(count);
  const created = await world.deploy(requestFor(setting));
  const failed = await world.fail(created.id, stepId);
  return { setting, created, failed, execution: workflows.started.at(-1) };
}

describe('GET /api/v1/tasks', () => {
  it('filters by deployment, status and type, newest first, with exact totals and pages', async () => {
    const { created, failed } = await failedDeployment(2, 'test');
    const deployment_id = created.id;
    const all = await tasksOf(deployment_id);
    const newestFirst = all.map((each) => each.id).reverse();

    expect(await list({ deployment_id })).toMatchObject({ total: 8, page: 1, page_size: 20 });
    expect(await ids({ deployment_id })).toEqual(newestFirst);
    expect(await ids({ deployment_id, status: 'failed' })).toEqual([failed.id]);
    // the failed application's later steps never ran
    expect((await list({ deployment_id, status: 'pending' })).tasks.map((each) => each.step_id)).toEqual([
      'health_check',
      'deploy',
    ]);
    expect((await list({ deployment_id, status: 'success' })).total).toBe(5);
    expect((await list({ deployment_id, type: 'build' })).tasks.map((each) => each.application_id)).toEqual(
      [...created.application_ids].reverse(),
    );
    expect(await ids({ deployment_id, status: 'success', type: 'test' })).toHaveLength(1);
    expect(await ids({ status: 'failed' })).toContain(failed.id);
    expect(await ids({ status: 'failed', type: 'test' })).toContain(failed.id);
    expect(await ids({ type: 'test' })).toContain(failed.id);
    expect(await ids({ type: 'test' })).not.toContain(all[0]?.id);

    const page = await list({ deployment_id, page: '2', page_size: '3' });
    expect(page).toMatchObject({ total: 8, page: 2, page_size: 3 });
    expect(page.tasks.map((each) => each.id)).toEqual(newestFirst.slice(3, 6));
    const last = await list({ deployment_id, page: '3', page_size: '3' });
    expect(last.tasks.map((each) => each.id)).toEqual(newestFirst.slice(6));
    expect(await list({ deployment_id: newId('deployment') })).toMatchObject({ tasks: [], total: 0 });
  });

  it('GET one answers the spec fields and what the workflow wrote; 404 for an unknown id', async () => {
    const { created, failed } = await failedDeployment(1, 'deploy');
    const answer = await callApi(handlers.tasks, { method: 'GET', path: `${PATH}/${failed.id}` });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(TASK_KEYS);
    expect(Task.parse(answer.body)).toEqual(failed);
    expect(failed).toMatchObject({ deployment_id: created.id, type: 'deploy', status: 'failed', attempt: 1 });
    expect(JSON.parse(failed.result)).toEqual({ error: 'StepFailed', cause: 'deploy exited with 1' });
    expect(failed.started_at).toMatch(TIMESTAMP);
    expect(failed.completed_at).toMatch(TIMESTAMP);
    const [build] = await tasksOf(created.id);
    expect(JSON.parse((await task(build?.id ?? '')).result)).toEqual({ ok: true });

    const missing = expectError(
      await callApi(handlers.tasks, { method: 'GET', path: `${PATH}/task_missing` }),
      404,
      'NOT_FOUND',
    );
    expect(missing.details).toEqual({ id: 'task_missing' });
  });

  it.each([
    [{ status: 'cancelled' }, 'status'],
    [{ type: 'nope' }, 'type'],
    [{ page_size: '0' }, 'page_size'],
    [{ page_size: '101' }, 'page_size'],
    [{ page: '1001' }, 'page'],
    [{ application_id: 'app_x' }, 'query'],
  ])('answers 400 naming the parameter for %o', async (query, field) => {
    const answer = await callApi(handlers.tasks, { method: 'GET', path: PATH, query });
    expectError(answer, 400, 'VALIDATION_ERROR');
    const fields = (answer.body.error as { details: { field: string }[] }).details.map(
      (issue) => issue.field,
    );
    expect(fields).toContain(field);
  });
});

describe('POST /api/v1/tasks/{id}/retry', () => {
  it('puts the failed task back to pending, resumes the deployment and starts <id>-resume-1 with the same input', async () => {
    const { setting, created, failed, execution } = await failedDeployment(1, 'test');
    const before = await deployment(created.id);
    expect(before.status).toBe('failed');
    expect(await lockHolder(setting.environment.id)).toBeUndefined();

    const answer = await retry(failed.id);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(TASK_KEYS);
    const retried = Task.parse(answer.body);
    expect(retried).toEqual({
      ...failed,
      status: 'pending',
      result: '',
      started_at: null,
      completed_at: null,
      updated_at: retried.updated_at,
    });
    expect(retried.updated_at).toMatch(TIMESTAMP);
    expect(await task(failed.id)).toEqual(retried);
    expect((await list({ deployment_id: created.id, status: 'failed' })).total).toBe(0);

    const resumed = await deployment(created.id);
    expect(resumed).toMatchObject({
      status: 'running',
      error_message: '',
      completed_at: null,
      started_at: before.started_at,
    });
    expect(await lockHolder(setting.environment.id)).toBe(created.id);
    expect(workflows.started.at(-1)).toEqual({
      strategy: 'standard',
      name: `${created.id}-resume-1`,
      input: execution?.input,
      arn: expect.stringContaining(`${created.id}-resume-1`),
    });
    expect(metrics.retried.at(-1)).toBe('test');

    // the new execution runs the task again (attempt 2) and a second failure resumes as -resume-2
    const at = nowTimestamp();
    expect(await machine.startTask(failed.id, at)).toBe(true);
    expect((await task(failed.id)).attempt).toBe(2);
    await machine.finishTask(failed.id, { error: 'StepFailed', cause: 'again' }, at);
    await machine.finishDeployment(created.id, setting.environment.id, { error_message: 'failed again' }, at);
    expect((await retry(failed.id)).status).toBe(200);
    expect(workflows.started.at(-1)).toMatchObject({
      name: `${created.id}-resume-2`,
      input: execution?.input,
    });
  });

  it('answers 409 with the status for a task that is not failed, 404 for an unknown task', async () => {
    const { created } = await failedDeployment(1, 'deploy');
    const [build, test, deploy, healthCheck] = await tasksOf(created.id);
    expect(deploy?.status).toBe('failed');
    const started = workflows.started.length;
    for (const [each, status] of [
      [build, 'success'],
      [healthCheck, 'pending'],
    ] as const) {
      const error = expectError(await retry(each?.id ?? ''), 409, 'CONFLICT');
      expect(error.message).toContain(status);
      expect(error.details).toEqual({ status });
      expect((await task(each?.id ?? '')).status).toBe(status);
    }
    expect(test?.status).toBe('success');

    const running = await world.deploy(requestFor(await world.scene(1)));
    const [runningBuild] = await tasksOf(running.id);
    await machine.markDeploymentRunning(running.id, nowTimestamp());
    await machine.startTask(runningBuild?.id ?? '', nowTimestamp());
    expect(expectError(await retry(runningBuild?.id ?? ''), 409, 'CONFLICT').details).toEqual({
      status: 'running',
    });
    expect(workflows.started).toHaveLength(started + 1);
    expect((await deployment(created.id)).status).toBe('failed');

    expect(expectError(await retry('task_missing'), 404, 'NOT_FOUND').details).toEqual({
      id: 'task_missing',
    });
    const withBody = await callApi(handlers.tasks, {
      method: 'POST',
      path: `${PATH}/${deploy?.id}/retry`,
      body: { force: true },
    });
    expectError(withBody, 400, 'VALIDATION_ERROR');
  });

  it('answers 409 while the failed task’s deployment still runs its other applications', async () => {
    const setting = await world.scene(2);
    const created = await world.deploy(requestFor(setting));
    const at = nowTimestamp();
    await machine.markDeploymentRunning(created.id, at);
    const [build] = await tasksOf(created.id);
    await machine.runTask(build?.id ?? '', { error: 'StepFailed', cause: 'exit 2' }, at);
    const started = workflows.started.length;

    const error = expectError(await retry(build?.id ?? ''), 409, 'CONFLICT');
    expect(error.details).toEqual({ deployment_status: 'running' });
    expect((await task(build?.id ?? '')).status).toBe('failed');
    expect(workflows.started).toHaveLength(started);
  });

  it('answers 409 naming the deployment that took the environment meanwhile, and changes nothing', async () => {
    const { setting, created, failed } = await failedDeployment(1, 'build');
    const other = await world.deploy(requestFor(setting));
    const started = workflows.started.length;

    const error = expectError(await retry(failed.id), 409, 'CONFLICT');
    expect(error.message).toContain(other.id);
    expect(error.details).toEqual({ deployment_id: other.id });
    expect(await task(failed.id)).toEqual(failed);
    expect((await deployment(created.id)).status).toBe('failed');
    expect(await lockHolder(setting.environment.id)).toBe(other.id);
    expect(workflows.started).toHaveLength(started);
  });

  it('answers 503 when the resumed workflow cannot start: deployment failed again, task failed, lock free', async () => {
    const { setting, created, failed, execution } = await failedDeployment(1, 'health_check');
    const awsText = 'Rate exceeded for arn:aws:states:us-east-1:123456789012:stateMachine:standard';
    workflows.failNextStart = Object.assign(new Error(awsText), { name: 'ThrottlingException' });
    const faultsBefore = faults.length;

    const answer = await retry(failed.id);
    const error = expectError(answer, 503, 'SERVICE_UNAVAILABLE');
    expect(error.details).toEqual({ task_id: failed.id });
    expect(JSON.stringify(answer.body)).not.toContain('arn:aws');
    expect(faults.slice(faultsBefore)).toEqual([
      { message: expect.stringContaining('resume'), error: expect.objectContaining({ message: awsText }) },
    ]);

    const after = await deployment(created.id);
    expect(after.status).toBe('failed');
    expect(after.error_message).toMatch(/could not be resumed/);
    expect(after.completed_at).toMatch(TIMESTAMP);
    const again = await task(failed.id);
    expect(again.status).toBe('failed');
    expect(JSON.parse(again.result)).toMatchObject({ error: 'WorkflowNotStarted' });
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
    expect((await list({ deployment_id: created.id, status: 'failed' })).total).toBe(1);

    // nothing is stuck: the next retry resumes, under the next name
    expect((await retry(failed.id)).status).toBe(200);
    expect(workflows.started.at(-1)).toMatchObject({
      name: `${created.id}-resume-2`,
      input: execution?.input,
    });
    expect(await lockHolder(setting.environment.id)).toBe(created.id);
  });

  it('lets one of two concurrent retries of the same task win', async () => {
    const { created, failed } = await failedDeployment(1, 'build');
    const started = workflows.started.length;
    const answers = await Promise.all([retry(failed.id), retry(failed.id)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(workflows.started.slice(started).map((execution) => execution.name)).toEqual([
      `${created.id}-resume-1`,
    ]);
    expect((await deployment(created.id)).status).toBe('running');
  });

  it('resumes a cancelled deployment one retried task at a time (docs/workflows.md: Retry)', async () => {
    const setting = await world.scene(1);
    const created = await world.deploy(requestFor(setting));
    const at = nowTimestamp();
    await machine.markDeploymentRunning(created.id, at);
    const [build, test, deploy] = await tasksOf(created.id);
    await machine.runTask(build?.id ?? '', { result: { image: 'service-0:v1.2.3' } }, at);
    await machine.startTask(test?.id ?? '', at);
    const cancelled = await callApi(handlers.deployments, {
      method: 'POST',
      path: `/api/v1/deployments/${created.id}/cancel`,
      body: {},
    });
    expect(cancelled.status).toBe(200);

    expect((await retry(test?.id ?? '')).status).toBe(200);
    expect((await deployment(created.id)).status).toBe('running');
    const cancelledResult = JSON.stringify({ error: 'DeploymentCancelled', cause: CANCELLED_MESSAGE });
    expect((await tasksOf(created.id)).map((each) => [each.step_id, each.status, each.result])).toEqual([
      ['build', 'success', JSON.stringify({ image: 'service-0:v1.2.3' })],
      ['test', 'pending', ''],
      ['deploy', 'failed', cancelledResult],
      ['health_check', 'failed', cancelledResult],
    ]);
    // the resumed execution runs test again, then stops at deploy, which the cancel failed
    const later = nowTimestamp();
    expect(await machine.runTask(test?.id ?? '', { result: {} }, later)).toBe(true);
    expect(await machine.startTask(deploy?.id ?? '', later)).toBe(false);
    await machine.finishDeployment(
      created.id,
      setting.environment.id,
      { error_message: 'deploy is failed' },
      later,
    );
    // which is retried in turn
    expect((await retry(deploy?.id ?? '')).status).toBe(200);
    expect(workflows.started.at(-1)).toMatchObject({ name: `${created.id}-resume-2` });
    expect((await task(deploy?.id ?? '')).status).toBe('pending');
  });

  it('resumes a deployment whose workflow never started, and fails it again if it still cannot start', async () => {
    const setting = await world.scene(1);
    workflows.failNextStart = new Error('StartExecution timed out');
    const answer = await callApi(handlers.deployments, {
      method: 'POST',
      path: '/api/v1/deployments',
      body: requestFor(setting),
      claims: DEPLOYER,
    });
    expect(answer.status).toBe(503);
    const deploymentId = String(
      (answer.body.error as { details: { deployment_id: string } }).details.deployment_id,
    );
    const [build] = await tasksOf(deploymentId);

    workflows.failNextStart = new Error('StartExecution timed out');
    expect((await retry(build?.id ?? '')).status).toBe(503);
    expect((await tasksOf(deploymentId)).map((each) => each.status)).toEqual(Array(4).fill('failed'));
    expect(await lockHolder(setting.environment.id)).toBeUndefined();

    expect((await retry(build?.id ?? '')).status).toBe(200);
    expect((await tasksOf(deploymentId)).map((each) => each.status)).toEqual([
      'pending',
      'failed',
      'failed',
      'failed',
    ]);
    expect(workflows.started.at(-1)).toMatchObject({ name: `${deploymentId}-resume-2` });
    expect(await lockHolder(setting.environment.id)).toBe(deploymentId);
  });
});

describe('retrying what an admin has since retired', () => {
  it('answers 409 for a deactivated environment and 404 for a deleted version, changing nothing', async () => {
    const inactive = await failedDeployment(1, 'deploy');
    const environmentPath = `/api/v1/environments/${inactive.setting.environment.id}`;
    const { id: _id, created_at: _c, updated_at: _u, ...fields } = inactive.setting.environment;
    const deactivated = await callApi(world.handlers.environments, {
      method: 'PUT',
      path: environmentPath,
      body: { ...fields, is_active: false },
      claims: ADMIN,
    });
    expect(deactivated.status).toBe(200);
    const started = workflows.started.length;
    const refused = await retry(inactive.failed.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: { code: 'CONFLICT', message: `Environment ${inactive.setting.environment.id} is not active` },
    });
    expect(await task(inactive.failed.id)).toMatchObject({ status: 'failed' });
    expect(await deployment(inactive.created.id)).toMatchObject({ status: 'failed' });
    expect(await lockHolder(inactive.setting.environment.id)).toBeUndefined();
    expect(workflows.started).toHaveLength(started);

    const deleted = await failedDeployment(1, 'deploy');
    const versionPath = `/api/v1/versions/${deleted.setting.version.id}`;
    expect(
      (await callApi(world.handlers.versions, { method: 'DELETE', path: versionPath, claims: ADMIN })).status,
    ).toBe(200);
    const startedBeforeGone = workflows.started.length;
    const gone = await retry(deleted.failed.id);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({
      error: { code: 'NOT_FOUND', details: { id: deleted.setting.version.id } },
    });
    expect(await task(deleted.failed.id)).toMatchObject({ status: 'failed' });
    expect(await lockHolder(deleted.setting.environment.id)).toBeUndefined();
    expect(workflows.started).toHaveLength(startedBeforeGone);
  });
});

describe('roles', () => {
  it('lets any signed-in caller read tasks, only deployers and admins retry, and answers 401 without a token', async () => {
    const { created, failed } = await failedDeployment(1, 'build');
    for (const claims of [READER, DEPLOYER, ADMIN]) {
      expect((await callApi(handlers.tasks, { method: 'GET', path: PATH, claims })).status).toBe(200);
      expect(
        (await callApi(handlers.tasks, { method: 'GET', path: `${PATH}/${failed.id}`, claims })).status,
      ).toBe(200);
    }
    const denied = expectError(await retry(failed.id, READER), 403, 'FORBIDDEN');
    expect(denied.message).toContain('deployers');
    expect((await task(failed.id)).status).toBe('failed');
    for (const call of [
      { method: 'GET', path: PATH },
      { method: 'GET', path: `${PATH}/${failed.id}` },
      { method: 'POST', path: `${PATH}/${failed.id}/retry`, body: {} },
    ]) {
      expectError(await callApi(handlers.tasks, { ...call, claims: null }), 401, 'UNAUTHORIZED');
    }
    expect((await retry(failed.id, ADMIN)).status).toBe(200);
    expect((await deployment(created.id)).status).toBe('running');
  });
});
