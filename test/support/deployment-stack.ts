import { createHash } from 'node:crypto';
import {
  CreateStateMachineCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { beforeAll } from 'vitest';
import { createApplicationsHandler } from '../../lambdas/api/applications';
import { createDeploymentsHandler } from '../../lambdas/api/deployments';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { createTasksHandler } from '../../lambdas/api/tasks';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { Application } from '../../lambdas/domain/application';
import { Deployment, type DeploymentStrategy } from '../../lambdas/domain/deployment';
import { Environment } from '../../lambdas/domain/environment';
import { Task } from '../../lambdas/domain/task';
import { Version } from '../../lambdas/domain/version';
import {
  createWorkflowManager,
  type StateMachineArns,
  type WorkflowManager,
} from '../../lambdas/execution/workflow-manager';
import type { BusinessMetrics } from '../../lambdas/metrics/business-metrics';
import { createApplicationService } from '../../lambdas/services/application-service';
import { createDeploymentService } from '../../lambdas/services/deployment-service';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createTaskService } from '../../lambdas/services/task-service';
import { createVersionService } from '../../lambdas/services/version-service';
import { createApplicationRepository } from '../../lambdas/store/application-repository';
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import { createDeploymentRepository } from '../../lambdas/store/deployment-repository';
import { createEnvironmentRepository } from '../../lambdas/store/environment-repository';
import { createTaskLogRepository } from '../../lambdas/store/task-log-repository';
import { createTaskRepository } from '../../lambdas/store/task-repository';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import {
  compileWorkflow,
  renderDefinition,
  WORKFLOW_TEMPLATES,
  WorkflowStrategy,
  type WorkflowTemplate,
} from '../../lambdas/workflow';
import type { SqsLocalOptions } from '../../local/sqs-local';
import {
  ADMIN,
  type ApiAnswer,
  type ApiCall,
  type ApiHandler,
  type Claims,
  callApi,
  DEPLOYER,
} from './api-events';
import { type TestTable, useTestTable } from './dynamodb';
import { useTestCredentials } from './secrets-manager';
import { type TestSqs, useSqsLocal } from './sqs';
import { type TestStepFunctions, useStepFunctionsLocal } from './stepfunctions';
import { ScriptedAgent, type ScriptedAgentOptions } from './task-agent';

/**
 * The deployment service end to end on this machine, the way `npm start` wires it
 * (local/stack.ts), minus the HTTP server: the real API handlers and repositories on a
 * DynamoDB Local table, a real WorkflowManager whose SFNClient talks to the Step Functions
 * stand-in, the compiled state machines registered there (rendered with the table name and
 * the fauxqs task queue URL), and scripted agents on that queue.
 */

export type WorkflowTemplates = Readonly<Record<DeploymentStrategy, WorkflowTemplate>>;

/** One API: the five resource handlers, bound to one set of templates and state machines. */
export interface DeploymentApi {
  readonly stateMachineArns: StateMachineArns;
  /** Calls the handler of the call's resource (by path), as API Gateway would. */
  call(call: ApiCall): Promise<ApiAnswer>;
}

export interface DeploymentStack {
  readonly table: TestTable;
  readonly sqs: TestSqs;
  readonly sfn: TestStepFunctions;
  readonly taskQueueUrl: string;
  /** The API on the templates the service ships (WORKFLOW_TEMPLATES). */
  readonly api: DeploymentApi;
  /** Faults the services logged while answering a clean error (none expected). */
  readonly faults: readonly string[];
  /** An API whose strategies run other templates (each compiled and registered once). */
  apiWith(templates: WorkflowTemplates): Promise<DeploymentApi>;
  /** A scripted agent on the task queue, started; stop it at the end of the test. */
  startAgent(options: Omit<ScriptedAgentOptions, 'sqs' | 'sfn' | 'queueUrl'>): ScriptedAgent;
}

export interface DeploymentStackOptions {
  readonly sqs?: Omit<SqsLocalOptions, 'port'>;
  /** wraps the WorkflowManager the services use (tests hold its calls to order a race) */
  readonly workflows?: (workflows: WorkflowManager) => WorkflowManager;
}

const noMetrics: BusinessMetrics = {
  deploymentCreated: () => undefined,
  deploymentCancelled: () => undefined,
  taskRetried: () => undefined,
};

const templatesKey = (templates: WorkflowTemplates): string =>
  createHash('sha256').update(JSON.stringify(templates)).digest('hex').slice(0, 12);

const stateMachineName = (strategy: DeploymentStrategy, key: string) => `deploy-manager-${strategy}-${key}`;

/** Registers the file's stack: table, queue, stand-in and handlers, each set up in beforeAll. */
export function useDeploymentStack(options: DeploymentStackOptions = {}): DeploymentStack {
  const table = useTestTable();
  const { credentials } = useTestCredentials();
  const sqs = useSqsLocal(options.sqs);
  const renderAll = (templates: WorkflowTemplates, key: string) =>
    WorkflowStrategy.options.map((strategy) => ({
      name: stateMachineName(strategy, key),
      definition: renderDefinition(compileWorkflow(templates[strategy]), {
        tableName: table.tableName,
        taskQueueUrl: sqs.local.taskQueueUrl,
      }),
    }));
  const defaultKey = templatesKey(WORKFLOW_TEMPLATES);
  const sfn = useStepFunctionsLocal(() => ({
    dynamoDbEndpoint: table.endpoint,
    sqsEndpoint: sqs.local.endpoint,
    // The definitions `cdk deploy` installs, with the substitutions CDK would make.
    stateMachines: renderAll(WORKFLOW_TEMPLATES, defaultKey),
  }));

  const faults: string[] = [];
  const apis = new Map<string, DeploymentApi>();
  let defaultApi: DeploymentApi | undefined;

  const buildApi = (templates: WorkflowTemplates, key: string): DeploymentApi => {
    const store = { client: table.documentClient, tableName: table.tableName };
    const stateMachineArns = Object.fromEntries(
      WorkflowStrategy.options.map((strategy) => [
        strategy,
        sfn.stateMachineArn(stateMachineName(strategy, key)),
      ]),
    ) as Record<DeploymentStrategy, string>;
    const real = createWorkflowManager(sfn.client, stateMachineArns);
    const workflows = options.workflows ? options.workflows(real) : real;
    const reportFault = (message: string, error: unknown) => {
      faults.push(
        `${message}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
    };
    const usage = createUsageGuard(store);
    const deployments = createDeploymentRepository(store);
    const tasks = createTaskRepository(store);
    const versions = createVersionRepository(store);
    const applications = createApplicationRepository(store);
    const environments = createEnvironmentRepository(store);
    const handlers: Record<string, ApiHandler> = {
      versions: createVersionsHandler(createVersionService(versions, usage)),
      applications: createApplicationsHandler(createApplicationService(applications, usage)),
      environments: createEnvironmentsHandler(
        createEnvironmentService(environments, usage, credentials, createCredentialAccessLog(store)),
      ),
      deployments: createDeploymentsHandler(
        createDeploymentService({
          deployments,
          tasks,
          versions,
          applications,
          environments,
          workflows,
          templates,
          metrics: noMetrics,
          reportFault,
        }),
      ),
      tasks: createTasksHandler(
        createTaskService({
          tasks,
          logs: createTaskLogRepository(store),
          deployments,
          workflows,
          metrics: noMetrics,
          reportFault,
        }),
      ),
    };
    return {
      stateMachineArns,
      call(call) {
        const resource = /^\/api\/v1\/([a-z]+)/.exec(call.path)?.[1] ?? '';
        const handler = handlers[resource];
        if (handler === undefined) throw new Error(`no handler for ${call.path}`);
        return callApi(handler, call);
      },
    };
  };

  beforeAll(() => {
    defaultApi = buildApi(WORKFLOW_TEMPLATES, defaultKey);
    apis.set(defaultKey, defaultApi);
  });

  const registerAll = async (client: SFNClient, templates: WorkflowTemplates, key: string) => {
    for (const machine of renderAll(templates, key)) {
      await client.send(
        new CreateStateMachineCommand({
          ...machine,
          roleArn: 'arn:aws:iam::000000000000:role/local-stepfunctions',
        }),
      );
    }
  };

  return {
    table,
    sqs,
    sfn,
    get taskQueueUrl() {
      return sqs.local.taskQueueUrl;
    },
    get api() {
      if (defaultApi === undefined) throw new Error('useDeploymentStack: read before its beforeAll hook ran');
      return defaultApi;
    },
    faults,
    async apiWith(templates) {
      const key = templatesKey(templates);
      const known = apis.get(key);
      if (known) return known;
      await registerAll(sfn.client, templates, key);
      const api = buildApi(templates, key);
      apis.set(key, api);
      return api;
    },
    startAgent(agentOptions) {
      const agent = new ScriptedAgent({
        ...agentOptions,
        sqs: sqs.client,
        sfn: sfn.client,
        queueUrl: sqs.local.taskQueueUrl,
      });
      agent.start();
      return agent;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Typed calls through the API, as a user makes them.
// ---------------------------------------------------------------------------------------

function expectStatus(answer: ApiAnswer, status: number, what: string): Record<string, unknown> {
  if (answer.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

export interface Fixture {
  readonly version: Version;
  readonly applications: readonly Application[];
  readonly environment: Environment;
}

let fixtureCount = 0;

/** A version, `applicationCount` applications and an environment, created through the API. */
export async function createFixture(
  api: DeploymentApi,
  options: { applicationCount?: number; gitTag?: string } = {},
): Promise<Fixture> {
  fixtureCount += 1;
  const repository = `https://github.com/org/e2e-${fixtureCount}`;
  const version = Version.parse(
    expectStatus(
      await api.call({
        method: 'POST',
        path: '/api/v1/versions',
        body: { git_tag: options.gitTag ?? 'v1.0.0', git_commit: 'abc123def456', repository },
        claims: DEPLOYER,
      }),
      201,
      'POST /versions',
    ),
  );
  const applications: Application[] = [];
  for (let index = 0; index < (options.applicationCount ?? 1); index += 1) {
    applications.push(
      Application.parse(
        expectStatus(
          await api.call({
            method: 'POST',
            path: '/api/v1/applications',
            body: {
              name: `service-${fixtureCount}-${index + 1}`,
              repository,
              type: 'microservice',
              config: { port: '8080' },
            },
            claims: ADMIN,
          }),
          201,
          'POST /applications',
        ),
      ),
    );
  }
  const environment = Environment.parse(
    expectStatus(
      await api.call({
        method: 'POST',
        path: '/api/v1/environments',
        body: {
          name: `e2e-${fixtureCount}`,
          type: 'kubernetes',
          config: { cluster: 'local', namespace: 'default', kubeconfig: 'c2VjcmV0' },
          is_active: true,
        },
        claims: ADMIN,
      }),
      201,
      'POST /environments',
    ),
  );
  return { version, applications, environment };
}

export async function createVersion(
  api: DeploymentApi,
  repository: string,
  gitTag: string,
): Promise<Version> {
  return Version.parse(
    expectStatus(
      await api.call({
        method: 'POST',
        path: '/api/v1/versions',
        body: { git_tag: gitTag, git_commit: createHash('sha1').update(gitTag).digest('hex'), repository },
        claims: DEPLOYER,
      }),
      201,
      'POST /versions',
    ),
  );
}

export async function createDeployment(
  api: DeploymentApi,
  fixture: Fixture,
  extra: { strategy?: DeploymentStrategy; claims?: Claims } = {},
): Promise<Deployment> {
  return Deployment.parse(
    expectStatus(
      await api.call({
        method: 'POST',
        path: '/api/v1/deployments',
        body: {
          version_id: fixture.version.id,
          application_ids: fixture.applications.map((application) => application.id),
          environment_id: fixture.environment.id,
          ...(extra.strategy === undefined ? {} : { strategy: extra.strategy }),
        },
        claims: extra.claims ?? DEPLOYER,
      }),
      201,
      'POST /deployments',
    ),
  );
}

export async function getDeployment(api: DeploymentApi, id: string): Promise<Deployment> {
  return Deployment.parse(
    expectStatus(
      await api.call({ method: 'GET', path: `/api/v1/deployments/${id}`, claims: DEPLOYER }),
      200,
      `GET /deployments/${id}`,
    ),
  );
}

/** GET /tasks?deployment_id=…, every page. */
export async function listTasks(api: DeploymentApi, deploymentId: string): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let page = 1; ; page += 1) {
    const body = expectStatus(
      await api.call({
        method: 'GET',
        path: '/api/v1/tasks',
        query: { deployment_id: deploymentId, page: String(page), page_size: '100' },
        claims: DEPLOYER,
      }),
      200,
      'GET /tasks',
    );
    const items = Task.array().parse(body.tasks);
    tasks.push(...items);
    if (items.length < 100) return tasks;
  }
}

/** The task of `applicationId` for template step `stepId`. */
export function taskOf(tasks: readonly Task[], applicationId: string, stepId: string): Task {
  const task = tasks.find((each) => each.application_id === applicationId && each.step_id === stepId);
  if (task === undefined) throw new Error(`no task ${stepId} of ${applicationId}`);
  return task;
}

/** Polls GET /deployments/{id} until `done` holds (or the deadline passes, which fails). */
export async function waitForDeployment(
  api: DeploymentApi,
  id: string,
  done: (deployment: Deployment) => boolean = (deployment) =>
    deployment.status === 'success' || deployment.status === 'failed',
  timeoutMs = 15_000,
): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deployment = await getDeployment(api, id);
    if (done(deployment)) return deployment;
    if (Date.now() > deadline) {
      throw new Error(`deployment ${id} still ${deployment.status} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The executions of a deployment (its first run, then `<id>-resume-<n>` per retry), oldest
 * first, once none of them is RUNNING any more.
 */
export async function settledExecutions(
  stack: DeploymentStack,
  api: DeploymentApi,
  deployment: Pick<Deployment, 'id' | 'strategy'>,
  timeoutMs = 15_000,
): Promise<ExecutionListItem[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { executions = [] } = await stack.sfn.client.send(
      new ListExecutionsCommand({ stateMachineArn: api.stateMachineArns[deployment.strategy] }),
    );
    const mine = executions
      .filter(
        (execution) =>
          execution.name === deployment.id || execution.name?.startsWith(`${deployment.id}-resume-`),
      )
      .reverse();
    if (mine.every((execution) => execution.status !== 'RUNNING')) return mine;
    if (Date.now() > deadline)
      throw new Error(`executions of ${deployment.id} still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
