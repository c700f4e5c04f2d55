import { describe, expect, it } from 'vitest';
import { TaskPayloadV1 } from '../../lambdas/agent-protocol';
import { ErrorResponse } from '../../lambdas/api/error-response';
import { nowTimestamp } from '../../lambdas/domain/common';
import {
  CANCELLED_MESSAGE,
  Deployment,
  DeploymentListResponse,
  type DeploymentStrategy,
} from '../../lambdas/domain/deployment';
import type { Environment } from '../../lambdas/domain/environment';
import { newId } from '../../lambdas/domain/ids';
import { type Task, TaskListResponse } from '../../lambdas/domain/task';
import { executionInputFor, WORKFLOW_TEMPLATES } from '../../lambdas/workflow';
import { ADMIN, type ApiAnswer, type Claims, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor } from '../support/fake-workflows';

const table = useTestTable();
const world = deploymentWorld(table);
const { workflows, metrics, faults, repositories } = world;

const PATH = '/api/v1/deployments';
const SPEC_KEYS = [
  'application_ids',
  'completed_at',
  'created_at',
  'created_by',
  'environment_id',
  'error_message',
  'id',
  'started_at',
  'status',
  'updated_at',
  'version_id',
];
/** The spec's fields plus the two this service adds (README: "Responses carry the spec's fields exactly"). */
const DEPLOYMENT_KEYS = [...SPEC_KEYS, 'rollback_of', 'strategy'].sort();
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const { seedVersion, seedApplication, seedEnvironment, scene } = world;

const post = (body: unknown, claims: Claims = DEPLOYER) =>
  callApi(world.handlers.deployments, { method: 'POST', path: PATH, body, claims });

const deployed = world.deploy;

const get = (id: string, claims: Claims = READER) =>
  callApi(world.handlers.deployments, { method: 'GET', path: `${PATH}/${id}`, claims });

async function current(id: string): Promise<Deployment> {
  const answer = await get(id);
  expect(answer.status).toBe(200);
  return Deployment.parse(answer.body);
}

async function list(query: Record<string, string>) {
  const answer = await callApi(world.handlers.deployments, {
    method: 'GET',
    path: PATH,
    query,
    claims: READER,
  });
  expect(answer.status).toBe(200);
  return DeploymentListResponse.parse(answer.body);
}

/** The deployment's tasks as GET /tasks shows them, in creation order (application, then step). */
async function tasksOf(deploymentId: string): Promise<Task[]> {
  const answer = await callApi(world.handlers.tasks, {
    method: 'GET',
    path: '/api/v1/tasks',
    query: { deployment_id: deploymentId, page_size: '100' },
    claims: READER,
  });
  expect(answer.status).toBe(200);
  return TaskListResponse.parse(answer.body).tasks.reverse();
}

const cancel = (id: string, claims: Claims = DEPLOYER) =>
  callApi(world.handlers.deployments, { method: 'POST', path: `${PATH}/${id}/cancel`, body: {}, claims });

const rollback = (id: string, body: unknown, claims: Claims = DEPLOYER) =>
  callApi(world.handlers.deployments, { method: 'POST', path: `${PATH}/${id}/rollback`, body, claims });

function expectError(answer: ApiAnswer, status: number, code: string) {
  expect(answer.status).toBe(status);
  const { error } = ErrorResponse.parse(answer.body);
  expect(error.code).toBe(code);
  return error;
}

const fieldsOf = (answer: ApiAnswer): string[] =>
  (answer.body.error as { details: { field: string }[] }).details.map((issue) => issue.field).sort();

const lockHolder = (environmentId: string) => repositories.deployments.lockHolder(environmentId);

const stepsOf = (strategy: DeploymentStrategy) => WORKFLOW_TEMPLATES[strategy].steps;

describe('POST /api/v1/deployments', () => {
  it('answers 201 with the spec fields, pending, created by the caller, and GET shows the same', async () => {
    const setting = await scene(2);
    const answer = await post(requestFor(setting));
    expect(answer.status).toBe(201);
    expect(Object.keys(answer.body).sort()).toEqual(DEPLOYMENT_KEYS);
    const deployment = Deployment.parse(answer.body);
    expect(deployment).toMatchObject({
      version_id: setting.version.id,
      application_ids: setting.applications.map((application) => application.id),
      environment_id: setting.environment.id,
      status: 'pending',
      created_by: DEPLOYER.email,
      started_at: null,
      completed_at: null,
      error_message: '',
      strategy: 'standard',
      rollback_of: null,
    });
    expect(deployment.id).toMatch(/^dep_[0-9a-z]{26}$/);
    expect(deployment.created_at).toMatch(TIMESTAMP);
    expect(deployment.updated_at).toBe(deployment.created_at);
    expect(await get(deployment.id)).toEqual({ status: 200, body: answer.body });
    expect(await lockHolder(setting.environment.id)).toBe(deployment.id);
  });

  it('creates one pending task per step and application, depends_on naming task ids', async () => {
    const setting = await scene(2);
    const deployment = await deployed(requestFor(setting));
    const tasks = await tasksOf(deployment.id);
    const steps = stepsOf('standard');
    expect(tasks).toHaveLength(steps.length * 2);
    for (const application of setting.applications) {
      const own = tasks.filter((task) => task.application_id === application.id);
      expect(own.map((task) => task.step_id)).toEqual(steps.map((step) => step.id));
      const idOf = new Map(own.map((task) => [task.step_id, task.id]));
      for (const [index, task] of own.entries()) {
        const step = steps[index];
        expect(task).toMatchObject({
          deployment_id: deployment.id,
          type: step?.type,
          status: 'pending',
          result: '',
          started_at: null,
          completed_at: null,
          attempt: 0,
          created_at: deployment.created_at,
          updated_at: deployment.created_at,
        });
        expect(task.id).toMatch(/^task_[0-9a-z]{26}$/);
        // ids of the same application's tasks: chains of different applications stay apart
        expect(task.depends_on).toEqual(step?.depends_on.map((dependency) => idOf.get(dependency)));
      }
    }
  });

  it('puts the step config, the coordinates and build tags from the git tag in each payload', async () => {
    const version = await seedVersion({ git_tag: 'v2.0.1', git_commit: 'fedcba987654' });
    const application = await seedApplication({ name: 'billing', config: { port: '9090', replicas: 5 } });
    const imaged = await seedApplication({ name: 'web', config: { image: 'org/web' } });
    const environment = await seedEnvironment({ config: { cluster: 'prod', namespace: 'apps' } });
    const deployment = await deployed({
      version_id: version.id,
      application_ids: [application.id, imaged.id],
      environment_id: environment.id,
    });
    const tasks = await tasksOf(deployment.id);
    const payloadOf = (applicationId: string, stepId: string) => {
      const task = tasks.find((each) => each.application_id === applicationId && each.step_id === stepId);
      return JSON.parse(task?.payload ?? 'null');
    };
    expect(payloadOf(application.id, 'build')).toEqual({
      step: 'build',
      type: 'build',
      config: {
        dockerfile: 'Dockerfile',
        context: '.',
        tags: ['billing:v2.0.1', 'billing:latest'],
        port: '9090',
        replicas: 5,
        cluster: 'prod',
        namespace: 'apps',
      },
      application: {
        id: application.id,
        name: 'billing',
        repository: application.repository,
        type: 'microservice',
      },
      environment: { id: environment.id, name: environment.name, type: 'kubernetes' },
      version: {
        id: version.id,
        git_tag: 'v2.0.1',
        git_commit: 'fedcba987654',
        repository: version.repository,
      },
      secret_keys: [],
    });
    // the application's config overrides the template's (replicas 5, not 3)
    expect(payloadOf(application.id, 'deploy').config).toEqual({
      strategy: 'rolling-update',
      replicas: 5,
      max_unavailable: 1,
      port: '9090',
      cluster: 'prod',
      namespace: 'apps',
    });
    expect(payloadOf(application.id, 'health_check').config).toMatchObject({
      endpoint: '/health',
      expected_status: 200,
      timeout: 60,
    });
    expect(payloadOf(imaged.id, 'build').config.tags).toEqual(['org/web:v2.0.1', 'org/web:latest']);
  });

  it('starts one execution named after the deployment, with the input its template accepts', async () => {
    const setting = await scene(2);
    const before = workflows.started.length;
    const deployment = await deployed(requestFor(setting));
    expect(workflows.started).toHaveLength(before + 1);
    const started = workflows.started.at(-1);
    expect(started?.name).toBe(deployment.id);
    expect(started?.strategy).toBe('standard');
    const input = executionInputFor(WORKFLOW_TEMPLATES.standard).parse(started?.input);
    expect(input).toEqual(started?.input);
    expect(input).toMatchObject({
      deployment_id: deployment.id,
      version_id: setting.version.id,
      environment_id: setting.environment.id,
      strategy: 'standard',
    });
    const tasks = await tasksOf(deployment.id);
    expect(input.applications.map((application) => application.application_id)).toEqual(
      deployment.application_ids,
    );
    for (const application of input.applications) {
      for (const [stepId, entry] of Object.entries(application.tasks)) {
        const task = tasks.find((each) => each.id === entry.task_id);
        expect(task).toMatchObject({ application_id: application.application_id, step_id: stepId });
        // the agent gets exactly the payload the task record shows, in the protocol's shape
        expect(entry.payload).toEqual(JSON.parse(task?.payload ?? 'null'));
        const payload = TaskPayloadV1.parse(entry.payload);
        const source = setting.applications.find((each) => each.id === application.application_id);
        expect(payload).toMatchObject({
          step: stepId,
          type: task?.type,
          application: { id: application.application_id, name: source?.name },
          environment: { id: setting.environment.id, name: setting.environment.name },
          version: { id: setting.version.id, git_tag: setting.version.git_tag },
        });
      }
    }
    expect(metrics.created.at(-1)).toBe('standard');
  });

  it.each([
    [{}, undefined, 'standard'],
    [{ deployment_strategy: 'blue-green' }, undefined, 'blue-green'],
    [{ deployment_strategy: 'blue-green' }, 'standard', 'standard'],
    [{}, 'blue-green', 'blue-green'],
    [{ deployment_strategy: 'canary' }, undefined, 'standard'],
  ] as const)('with environment config %o and strategy %s runs %s', async (config, strategy, expected) => {
    const setting = await scene(1, { config: { cluster: 'c', ...config } });
    const deployment = await deployed(requestFor(setting, strategy ? { strategy } : {}));
    expect(deployment.strategy).toBe(expected);
    expect(workflows.started.at(-1)).toMatchObject({ name: deployment.id, strategy: expected });
    const tasks = await tasksOf(deployment.id);
    expect(tasks.map((task) => task.step_id)).toEqual(stepsOf(expected).map((step) => step.id));
  });

  it('blue-green: build → deploy_green → health_check → switch_traffic → cleanup_blue, with their configs', async () => {
    const setting = await scene(1);
    const deployment = await deployed(requestFor(setting, { strategy: 'blue-green' }));
    const tasks = await tasksOf(deployment.id);
    expect(tasks.map((task) => [task.type, task.depends_on])).toEqual([
      ['build', []],
      ['deploy_green', [tasks[0]?.id]],
      ['health_check', [tasks[1]?.id]],
      ['switch_traffic', [tasks[2]?.id]],
      ['cleanup_blue', [tasks[3]?.id]],
    ]);
    const configs = tasks.map((task) => JSON.parse(task.payload).config);
    expect(configs[0]).toMatchObject({ tags: ['service-0:v1.2.3', 'service-0:latest'] });
    expect(configs[1]).toMatchObject({ environment: 'green', replicas: 3 });
    expect(configs[2]).toMatchObject({ target: 'green' });
    expect(configs[3]).toMatchObject({ from: 'blue', to: 'green' });
    expect(configs[4]).toMatchObject({ delay: 300 });
    const input = executionInputFor(WORKFLOW_TEMPLATES['blue-green']).parse(workflows.started.at(-1)?.input);
    expect(Object.keys(input.applications[0]?.tasks ?? {})).toEqual(
      stepsOf('blue-green').map((step) => step.id),
    );
  });
});

describe('secrets in deployments', () => {
  const KUBECONFIG = 'apiVersion: v1 SENTINEL-kube-4c1d';
  const DB_PASSWORD = 'SENTINEL-db-9e27';
  const NESTED_PASSWORD = 'SENTINEL-nested-51aa';
  const TOKEN = 'SENTINEL-token-0b3f';
  const SENTINELS = [KUBECONFIG, DB_PASSWORD, NESTED_PASSWORD, TOKEN, 'SENTINEL'];

  it('sends no secret value anywhere: only their keys, in payload.secret_keys', async () => {
    const version = await seedVersion();
    // The API refuses a credential in an application's config (400); one written by an older
    // version or another tool must still not travel.
    const refused = await callApi(world.handlers.applications, {
      method: 'POST',
      path: '/api/v1/applications',
      body: {
        name: 'leaky',
        repository: 'https://github.com/org/leaky',
        type: 'microservice',
        config: { github_token: TOKEN },
      },
      claims: ADMIN,
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).not.toContain(TOKEN);
    const seeded = await seedApplication({ config: { port: '8080' } });
    const application = {
      ...seeded,
      id: newId('application'),
      config: { port: '8080', github_token: TOKEN },
    };
    await repositories.applications.create(application);
    const flat = await seedEnvironment({
      config: { cluster: 'prod', kubeconfig: KUBECONFIG, db_password: DB_PASSWORD },
    });
    // The API only takes flat configs; a nested one can still be in the table (written by
    // another tool or an older version), and must not travel either.
    const now = nowTimestamp();
    const nested: Environment = {
      id: newId('environment'),
      name: 'nested',
      type: 'kubernetes',
      config: { cluster: 'prod', database: { host: 'db.internal', password: NESTED_PASSWORD } },
      is_active: true,
      created_at: now,
      updated_at: now,
    };
    await repositories.environments.create(nested);

    const cases = [
      { environment: flat, secretKeys: ['db_password', 'github_token', 'kubeconfig'] },
      { environment: nested, secretKeys: ['database.password', 'github_token'] },
    ];
    for (const { environment, secretKeys } of cases) {
      const answer = await post({
        version_id: version.id,
        application_ids: [application.id],
        environment_id: environment.id,
      });
      expect(answer.status).toBe(201);
      const deployment = Deployment.parse(answer.body);
      const tasks = await tasksOf(deployment.id);
      const exposed = [
        JSON.stringify(answer.body),
        JSON.stringify(tasks),
        JSON.stringify(workflows.started.at(-1)),
        JSON.stringify(await get(deployment.id)),
      ];
      for (const text of exposed) {
        for (const sentinel of SENTINELS) expect(text).not.toContain(sentinel);
        expect(text).not.toContain('[redacted]');
      }
      for (const task of tasks) {
        const payload = JSON.parse(task.payload);
        expect(payload.secret_keys).toEqual(secretKeys);
        expect(Object.keys(payload.config)).not.toContain('kubeconfig');
        expect(Object.keys(payload.config)).not.toContain('github_token');
      }
      const [build] = tasks;
      if (environment === nested) {
        expect(JSON.parse(build?.payload ?? '{}').config.database).toEqual({ host: 'db.internal' });
      }
      await world.succeed(deployment.id);
    }
  });
});

describe('POST /api/v1/deployments rejected', () => {
  it('answers 404 naming the unknown version, application or environment, and creates nothing', async () => {
    const setting = await scene(2);
    const started = workflows.started.length;
    const [first, second] = setting.applications;
    const [version, application, environment] = [
      newId('version'),
      newId('application'),
      newId('environment'),
    ];
    const cases = [
      [{ version_id: version }, `Version ${version}`, version],
      [{ application_ids: [first?.id, application, second?.id] }, `Application ${application}`, application],
      [{ environment_id: environment }, `Environment ${environment}`, environment],
    ] as const;
    for (const [override, message, id] of cases) {
      const error = expectError(await post({ ...requestFor(setting), ...override }), 404, 'NOT_FOUND');
      expect(error.message).toContain(message);
      expect(error.details).toEqual({ id });
    }
    expect(workflows.started).toHaveLength(started);
    expect((await list({ environment_id: setting.environment.id })).total).toBe(0);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
  });

  it('answers 400 naming bad fields: no applications, repeated ones, unknown fields, a bad strategy', async () => {
    const setting = await scene(1);
    const [application] = setting.applications;
    const cases: [Record<string, unknown>, string[]][] = [
      [{ application_ids: [] }, ['application_ids']],
      [{ application_ids: [application?.id, application?.id] }, ['application_ids']],
      [{ application_ids: Array.from({ length: 11 }, (_, index) => `app_${index}`) }, ['application_ids']],
      [{ strategy: 'canary' }, ['strategy']],
      [{ colour: 'blue' }, ['body']],
      [{ version_id: '' }, ['version_id']],
      // a string where the list belongs: one message, about the type
      [{ application_ids: 'app_x' }, ['application_ids']],
    ];
    for (const [override, fields] of cases) {
      const answer = await post({ ...requestFor(setting), ...override });
      expectError(answer, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(answer)).toEqual(fields);
    }
    const wrongType = await post({ ...requestFor(setting), application_ids: 'app_x' });
    expect(ErrorResponse.parse(wrongType.body).error.details).toEqual([
      { field: 'application_ids', message: expect.stringMatching(/expected array/) },
    ]);
    const empty = await post({});
    expect(fieldsOf(empty)).toEqual(['application_ids', 'environment_id', 'version_id']);
    const malformed = await callApi(world.handlers.deployments, { method: 'POST', path: PATH, rawBody: '{' });
    expectError(malformed, 400, 'VALIDATION_ERROR');
    expect((await list({ environment_id: setting.environment.id })).total).toBe(0);
  });

  it('answers 409 for an inactive environment', async () => {
    const setting = await scene(1, { is_active: false });
    const error = expectError(await post(requestFor(setting)), 409, 'CONFLICT');
    expect(error.message).toContain('not active');
    expect(error.details).toEqual({ environment_id: setting.environment.id });
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
  });

  it('answers 409 naming the unfinished deployment that holds the environment; other environments are free', async () => {
    const setting = await scene(1);
    const first = await deployed(requestFor(setting));
    const started = workflows.started.length;

    const busy = await post(requestFor(setting));
    const error = expectError(busy, 409, 'CONFLICT');
    expect(error.message).toContain(first.id);
    expect(error.details).toEqual({ deployment_id: first.id });
    expect(workflows.started).toHaveLength(started);

    // still busy once the workflow marked it running
    await world.machine.markDeploymentRunning(first.id, nowTimestamp());
    expectError(await post(requestFor(setting)), 409, 'CONFLICT');
    expect(
      (await list({ environment_id: setting.environment.id })).deployments.map((each) => each.id),
    ).toEqual([first.id]);

    const elsewhere = await seedEnvironment();
    const other = await deployed(requestFor({ ...setting, environment: elsewhere }));
    expect(await lockHolder(elsewhere.id)).toBe(other.id);

    // the workflow's last states free it
    await world.succeed(first.id);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
    const next = await deployed(requestFor(setting));
    expect(await lockHolder(setting.environment.id)).toBe(next.id);
  });

  it('admits exactly one of two concurrent deployments to one environment', async () => {
    const setting = await scene(1);
    const started = workflows.started.length;
    const answers = await Promise.all([post(requestFor(setting)), post(requestFor(setting))]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
    const winner = answers.find((answer) => answer.status === 201);
    expect(workflows.started.slice(started).map((execution) => execution.name)).toEqual([winner?.body.id]);
    expect((await list({ environment_id: setting.environment.id })).total).toBe(1);
  });

  it('re-checks in its write what it read: a version or environment deleted meanwhile answers 404', async () => {
    const setting = await scene(1);
    const goneVersion = await seedVersion();
    const goneEnvironment = await seedEnvironment();
    for (const [path, id] of [
      ['/api/v1/versions', goneVersion.id],
      ['/api/v1/environments', goneEnvironment.id],
    ] as const) {
      const handler = path.includes('versions') ? world.handlers.versions : world.handlers.environments;
      expect((await callApi(handler, { method: 'DELETE', path: `${path}/${id}` })).status).toBe(200);
    }
    // a service that read them just before they were deleted
    const stale = world.deploymentsHandlerWith({
      versions: {
        getById: async (id) => (id === goneVersion.id ? goneVersion : repositories.versions.getById(id)),
      },
      environments: {
        getById: async (id) =>
          id === goneEnvironment.id ? goneEnvironment : repositories.environments.getById(id),
      },
    });
    const started = workflows.started.length;
    const withStaleVersion = await callApi(stale, {
      method: 'POST',
      path: PATH,
      body: requestFor(setting, { version_id: goneVersion.id }),
    });
    expect(expectError(withStaleVersion, 404, 'NOT_FOUND').details).toEqual({ id: goneVersion.id });
    expect(await lockHolder(setting.environment.id)).toBeUndefined();

    const withStaleEnvironment = await callApi(stale, {
      method: 'POST',
      path: PATH,
      body: requestFor(setting, { environment_id: goneEnvironment.id }),
    });
    expect(expectError(withStaleEnvironment, 404, 'NOT_FOUND').details).toEqual({ id: goneEnvironment.id });
    expect(await lockHolder(goneEnvironment.id)).toBeUndefined();
    expect(workflows.started).toHaveLength(started);
    expect((await list({ version_id: goneVersion.id })).total).toBe(0);
    expect((await list({ environment_id: goneEnvironment.id })).total).toBe(0);
  });
});

describe('a deployment too large for its workflow', () => {
  it('answers 413 before writing anything when the payloads would overflow the execution input', async () => {
    // 36 KB of plain config: a valid environment, but copied into every task's payload
    const bulky = Object.fromEntries(
      Array.from({ length: 30 }, (_, index) => [`note_${index}`, 'x'.repeat(1200)]),
    );
    const setting = await scene(2, { config: bulky });
    const started = workflows.started.length;
    const answer = await post(requestFor(setting));
    const error = expectError(answer, 413, 'PAYLOAD_TOO_LARGE');
    expect(error.message).toMatch(/workflow input/);
    // 192 KiB: Step Functions takes 256 KiB of input; the rest is headroom for what the execution adds.
    expect(error.details).toMatchObject({ limit_bytes: 196_608 });
    expect(workflows.started).toHaveLength(started);
    expect((await list({ environment_id: setting.environment.id })).total).toBe(0);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
    // one application fits
    await deployed(requestFor({ ...setting, applications: setting.applications.slice(0, 1) }));
  });
});

describe('when the workflow cannot start', () => {
  it('answers 503 without the AWS text, fails the deployment and its tasks, frees the environment', async () => {
    const setting = await scene(2);
    const awsText =
      'User: arn:aws:sts::123456789012:assumed-role/api is not authorized to perform: states:StartExecution';
    workflows.failNextStart = Object.assign(new Error(awsText), { name: 'AccessDeniedException' });
    const faultsBefore = faults.length;

    const answer = await post(requestFor(setting));
    const error = expectError(answer, 503, 'SERVICE_UNAVAILABLE');
    const text = JSON.stringify(answer.body);
    for (const leak of ['arn:aws', 'AccessDenied', 'not authorized', 'StartExecution']) {
      expect(text).not.toContain(leak);
    }
    const deploymentId = String((error.details as Record<string, unknown>).deployment_id);

    const deployment = await current(deploymentId);
    expect(deployment).toMatchObject({ status: 'failed', started_at: null });
    expect(deployment.error_message).toMatch(/could not be started/);
    expect(deployment.error_message).not.toContain('arn:aws');
    expect(deployment.completed_at).toMatch(TIMESTAMP);
    const tasks = await tasksOf(deploymentId);
    expect(tasks).toHaveLength(8);
    for (const task of tasks) {
      expect(task.status).toBe('failed');
      expect(JSON.parse(task.result)).toMatchObject({ error: 'WorkflowNotStarted' });
    }
    expect((await list({ environment_id: setting.environment.id, status: 'failed' })).total).toBe(1);

    expect(faults.slice(faultsBefore)).toEqual([
      {
        message: expect.stringContaining('could not start'),
        error: expect.objectContaining({ message: awsText }),
      },
    ]);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
    const again = await deployed(requestFor(setting));
    expect(workflows.started.at(-1)?.name).toBe(again.id);
  });
});

describe('GET /api/v1/deployments', () => {
  it('filters by environment, status and version, newest first, with exact totals and pages', async () => {
    const setting = await scene(1);
    const other = await seedVersion({ git_tag: 'v9.9.9' });
    const first = await deployed(requestFor(setting));
    await world.succeed(first.id);
    const second = await deployed(requestFor(setting, { version_id: other.id }));
    await world.fail(second.id, 'test');
    const third = await deployed(requestFor(setting));
    await world.machine.markDeploymentRunning(third.id, nowTimestamp());
    const environment_id = setting.environment.id;
    const ids = async (query: Record<string, string>) =>
      (await list(query)).deployments.map((each) => each.id);

    expect(await list({ environment_id })).toMatchObject({ total: 3, page: 1, page_size: 20 });
    expect(await ids({ environment_id })).toEqual([third.id, second.id, first.id]);
    expect(await ids({ environment_id, status: 'success' })).toEqual([first.id]);
    expect(await ids({ environment_id, status: 'failed' })).toEqual([second.id]);
    expect(await ids({ environment_id, status: 'running' })).toEqual([third.id]);
    expect(await ids({ environment_id, status: 'pending' })).toEqual([]);
    expect(await ids({ environment_id, version_id: setting.version.id })).toEqual([third.id, first.id]);
    expect(await ids({ version_id: other.id })).toEqual([second.id]);
    expect(await ids({ version_id: other.id, status: 'failed' })).toEqual([second.id]);
    expect(await ids({ status: 'running' })).toContain(third.id);
    expect(await ids({ status: 'running' })).not.toContain(first.id);

    const secondPage = await list({ environment_id, page: '2', page_size: '2' });
    expect(secondPage).toMatchObject({ total: 3, page: 2, page_size: 2 });
    expect(secondPage.deployments.map((each) => each.id)).toEqual([first.id]);
    expect((await list({ environment_id, status: 'success', page_size: '1' })).total).toBe(1);

    const all = await list({});
    expect(all.total).toBeGreaterThanOrEqual(3);
    const listed = all.deployments.map((each) => each.id);
    expect([...listed].sort().reverse()).toEqual(listed);

    const running = await current(third.id);
    expect(running.started_at).toMatch(TIMESTAMP);
    const failed = await current(second.id);
    expect(failed.error_message).toContain('(test)');
    expect(failed.completed_at).toMatch(TIMESTAMP);
  });

  it.each([
    [{ status: 'cancelled' }, 'status'],
    [{ page_size: '101' }, 'page_size'],
    [{ page: '0' }, 'page'],
    [{ application_id: 'app_x' }, 'query'],
  ])('answers 400 naming the parameter for %o', async (query, field) => {
    const answer = await callApi(world.handlers.deployments, { method: 'GET', path: PATH, query });
    expectError(answer, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(answer)).toContain(field);
  });

  it('answers 404 for an unknown deployment', async () => {
    const error = expectError(await get('dep_missing'), 404, 'NOT_FOUND');
    expect(error.details).toEqual({ id: 'dep_missing' });
  });
});

describe('POST /api/v1/deployments/{id}/cancel', () => {
  it('stops a running deployment, fails it and its unfinished tasks, frees the environment', async () => {
    const setting = await scene(1);
    const deployment = await deployed(requestFor(setting));
    const execution = workflows.started.at(-1);
    const at = nowTimestamp();
    await world.machine.markDeploymentRunning(deployment.id, at);
    const [build, test, ...rest] = await tasksOf(deployment.id);
    await world.machine.runTask(build?.id ?? '', { result: { image: 'service-0:v1.2.3' } }, at);
    // test is running when the cancel lands: MarkRunning only
    await world.machine.startTask(test?.id ?? '', at);
    const cancelledBefore = metrics.cancelled;

    const answer = await cancel(deployment.id);
    expect(answer).toEqual({
      status: 200,
      body: { id: deployment.id, status: 'failed', error_message: CANCELLED_MESSAGE },
    });
    expect(workflows.stops.at(-1)).toEqual({ arn: execution?.arn, cause: CANCELLED_MESSAGE });
    expect(metrics.cancelled).toBe(cancelledBefore + 1);

    const after = await current(deployment.id);
    expect(after).toMatchObject({ status: 'failed', error_message: CANCELLED_MESSAGE });
    expect(after.completed_at).toMatch(TIMESTAMP);
    const tasks = await tasksOf(deployment.id);
    expect(tasks[0]).toMatchObject({
      status: 'success',
      result: JSON.stringify({ image: 'service-0:v1.2.3' }),
    });
    for (const task of tasks.slice(1)) {
      expect(task.status).toBe('failed');
      expect(JSON.parse(task.result)).toEqual({ error: 'DeploymentCancelled', cause: CANCELLED_MESSAGE });
      expect(task.completed_at).toMatch(TIMESTAMP);
    }
    expect(rest).toHaveLength(2);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
    expect((await list({ environment_id: setting.environment.id, status: 'failed' })).total).toBe(1);

    // a late write of the stopped execution cannot undo the cancel
    expect(
      await world.machine.finishDeployment(deployment.id, setting.environment.id, 'success', nowTimestamp()),
    ).toBe(false);
    expect((await current(deployment.id)).status).toBe('failed');
    await deployed(requestFor(setting));
  });

  it('answers 409 when the workflow finished just before the stop, and still frees the environment', async () => {
    const setting = await scene(1);
    const deployment = await deployed(requestFor(setting));
    const at = nowTimestamp();
    await world.machine.markDeploymentRunning(deployment.id, at);
    for (const task of await tasksOf(deployment.id)) await world.machine.runTask(task.id, { result: {} }, at);
    // the execution marks the deployment succeeded, then is stopped before it releases the lock
    workflows.beforeNextStop = () => world.machine.markDeploymentFinished(deployment.id, 'success', at);

    const error = expectError(await cancel(deployment.id), 409, 'CONFLICT');
    expect(error.details).toEqual({ status: 'success' });
    expect((await current(deployment.id)).status).toBe('success');
    expect((await tasksOf(deployment.id)).every((task) => task.status === 'success')).toBe(true);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
    await deployed(requestFor(setting));
  });

  it('cancels a deployment still pending, and its execution is stopped too', async () => {
    const setting = await scene(2);
    const deployment = await deployed(requestFor(setting));
    const answer = await cancel(deployment.id);
    expect(answer.status).toBe(200);
    expect(workflows.stopped.at(-1)).toBe(workflows.started.at(-1)?.arn);
    expect((await tasksOf(deployment.id)).map((task) => task.status)).toEqual(Array(8).fill('failed'));
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
  });

  it('answers 409 with the status for a finished deployment, 404 for an unknown one', async () => {
    const setting = await scene(1);
    const succeeded = await deployed(requestFor(setting));
    await world.succeed(succeeded.id);
    const stops = workflows.stops.length;
    const error = expectError(await cancel(succeeded.id), 409, 'CONFLICT');
    expect(error.details).toEqual({ status: 'success' });
    expect((await current(succeeded.id)).status).toBe('success');
    expect((await tasksOf(succeeded.id)).every((task) => task.status === 'success')).toBe(true);

    const cancelled = await deployed(requestFor(setting));
    expect((await cancel(cancelled.id)).status).toBe(200);
    expect(expectError(await cancel(cancelled.id), 409, 'CONFLICT').details).toEqual({ status: 'failed' });
    expect(workflows.stops).toHaveLength(stops + 1);

    expectError(await cancel('dep_missing'), 404, 'NOT_FOUND');
    const withBody = await callApi(world.handlers.deployments, {
      method: 'POST',
      path: `${PATH}/${cancelled.id}/cancel`,
      body: { reason: 'x' },
    });
    expectError(withBody, 400, 'VALIDATION_ERROR');
  });
});

describe('POST /api/v1/deployments/{id}/rollback', () => {
  it('creates a new pending deployment of the target version, same applications, environment and strategy', async () => {
    const setting = await scene(2);
    const original = await deployed(requestFor(setting, { strategy: 'blue-green' }));
    await world.fail(original.id, 'health_check');
    const earlier = await seedVersion({ git_tag: 'v1.0.0' });

    const answer = await rollback(original.id, { target_version_id: earlier.id });
    expect(answer.status).toBe(201);
    expect(Object.keys(answer.body).sort()).toEqual(DEPLOYMENT_KEYS);
    const rolled = Deployment.parse(answer.body);
    expect(rolled).toMatchObject({
      version_id: earlier.id,
      application_ids: original.application_ids,
      environment_id: original.environment_id,
      strategy: 'blue-green',
      status: 'pending',
      rollback_of: original.id,
      created_by: DEPLOYER.email,
      started_at: null,
      completed_at: null,
      error_message: '',
    });
    expect(rolled.id).not.toBe(original.id);
    expect(await get(rolled.id)).toEqual({ status: 200, body: answer.body });
    expect(workflows.started.at(-1)).toMatchObject({ name: rolled.id, strategy: 'blue-green' });
    const tasks = await tasksOf(rolled.id);
    expect(tasks).toHaveLength(10);
    expect(JSON.parse(tasks[0]?.payload ?? '{}').config.tags).toEqual([
      'service-0:v1.0.0',
      'service-0:latest',
    ]);
    expect(await lockHolder(setting.environment.id)).toBe(rolled.id);
    // the original is left as it was
    expect((await current(original.id)).status).toBe('failed');
  });

  it('answers 409 while the original still holds the environment, 404 for unknown ids, 400 without a target', async () => {
    const setting = await scene(1);
    const original = await deployed(requestFor(setting));
    const earlier = await seedVersion({ git_tag: 'v0.9.0' });
    const busy = expectError(await rollback(original.id, { target_version_id: earlier.id }), 409, 'CONFLICT');
    expect(busy.details).toEqual({ deployment_id: original.id });

    await world.succeed(original.id);
    const unknownVersion = newId('version');
    const missingVersion = expectError(
      await rollback(original.id, { target_version_id: unknownVersion }),
      404,
      'NOT_FOUND',
    );
    expect(missingVersion.message).toContain(`Version ${unknownVersion}`);
    const missingDeployment = expectError(
      await rollback('dep_missing', { target_version_id: earlier.id }),
      404,
      'NOT_FOUND',
    );
    expect(missingDeployment.message).toContain('Deployment dep_missing');
    const noTarget = await rollback(original.id, {});
    expectError(noTarget, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(noTarget)).toEqual(['target_version_id']);
    expect((await list({ environment_id: setting.environment.id })).total).toBe(1);
    expect(await lockHolder(setting.environment.id)).toBeUndefined();
  });
});

describe('roles', () => {
  it('lets any signed-in caller read, deployers and admins write, and answers 401 without a token', async () => {
    const setting = await scene(1);
    const deployment = await deployed(requestFor(setting));
    const earlier = await seedVersion();

    for (const claims of [READER, DEPLOYER, ADMIN]) {
      expect((await get(deployment.id, claims)).status).toBe(200);
      expect((await callApi(world.handlers.deployments, { method: 'GET', path: PATH, claims })).status).toBe(
        200,
      );
    }
    const readerTries = [
      await post(requestFor(setting), READER),
      await cancel(deployment.id, READER),
      await rollback(deployment.id, { target_version_id: earlier.id }, READER),
    ];
    for (const answer of readerTries) {
      const error = expectError(answer, 403, 'FORBIDDEN');
      expect(error.message).toContain('deployers');
    }
    expect((await current(deployment.id)).status).toBe('pending');
    expect(await lockHolder(setting.environment.id)).toBe(deployment.id);

    for (const call of [
      { method: 'GET', path: PATH },
      { method: 'GET', path: `${PATH}/${deployment.id}` },
      { method: 'POST', path: PATH, body: requestFor(setting) },
      { method: 'POST', path: `${PATH}/${deployment.id}/cancel`, body: {} },
    ]) {
      expectError(await callApi(world.handlers.deployments, { ...call, claims: null }), 401, 'UNAUTHORIZED');
    }

    expect((await cancel(deployment.id, ADMIN)).status).toBe(200);
    expect((await rollback(deployment.id, { target_version_id: earlier.id }, ADMIN)).status).toBe(201);
  });
});
