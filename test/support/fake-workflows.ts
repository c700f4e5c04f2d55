import {
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import type * as z from 'zod';
import { createApplicationsHandler } from '../../lambdas/api/applications';
import { createDeploymentsHandler } from '../../lambdas/api/deployments';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { createTasksHandler } from '../../lambdas/api/tasks';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { Application } from '../../lambdas/domain/application';
import { nowTimestamp } from '../../lambdas/domain/common';
import { Deployment, type DeploymentStrategy } from '../../lambdas/domain/deployment';
import { Environment } from '../../lambdas/domain/environment';
import type { Task } from '../../lambdas/domain/task';
import { Version } from '../../lambdas/domain/version';
import { executionArnOf, type WorkflowManager } from '../../lambdas/execution/workflow-manager';
import type { BusinessMetrics } from '../../lambdas/metrics/business-metrics';
import { createApplicationService } from '../../lambdas/services/application-service';
import {
  createDeploymentService,
  type DeploymentServiceDependencies,
} from '../../lambdas/services/deployment-service';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createTaskService } from '../../lambdas/services/task-service';
import { createVersionService } from '../../lambdas/services/version-service';
import {
  type ApplicationRepository,
  createApplicationRepository,
} from '../../lambdas/store/application-repository';
import {
  createDeploymentRepository,
  type DeploymentRepository,
} from '../../lambdas/store/deployment-repository';
import {
  createEnvironmentRepository,
  type EnvironmentRepository,
} from '../../lambdas/store/environment-repository';
import type { StoreContext } from '../../lambdas/store/store-context';
import { isConditionFailure } from '../../lambdas/store/store-errors';
import { createTaskLogRepository } from '../../lambdas/store/task-log-repository';
import { createTaskRepository, type TaskRepository } from '../../lambdas/store/task-repository';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository, type VersionRepository } from '../../lambdas/store/version-repository';
import { WORKFLOW_TEMPLATES } from '../../lambdas/workflow';
import { type JsonObject, type JsonValue, TABLE_NAME_PLACEHOLDER } from '../../lambdas/workflow/asl';
import {
  NOW_TIMESTAMP,
  releaseLockRequest,
  type StatusUpdate,
  statusUpdateRequest,
} from '../../lambdas/workflow/table-requests';
import { ADMIN, type ApiHandler, type Claims, callApi, DEPLOYER } from './api-events';
import type { TestTable } from './dynamodb';

export interface StartedExecution {
  readonly strategy: DeploymentStrategy;
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly arn: string;
}

export interface StoppedExecution {
  readonly arn: string;
  readonly cause: string;
}

/** Step Functions' limit on an execution's input (UTF-8 bytes). */
const MAX_STEP_FUNCTIONS_INPUT_BYTES = 262_144;

/** A WorkflowManager that records what the API asked of Step Functions. */
export class RecordingWorkflows implements WorkflowManager {
  readonly started: StartedExecution[] = [];
  /** ARNs of the stopped executions, in order */
  readonly stopped: string[] = [];
  readonly stops: StoppedExecution[] = [];
  /** the next start throws this, once */
  failNextStart: Error | undefined;

  async start(strategy: DeploymentStrategy, name: string, input: string): Promise<string> {
    const failure = this.failNextStart;
    if (failure) {
      this.failNextStart = undefined;
      throw failure;
    }
    if (Buffer.byteLength(input, 'utf8') > MAX_STEP_FUNCTIONS_INPUT_BYTES) {
      // as StartExecution answers an input over its limit
      throw Object.assign(new Error("Value at 'input' failed to satisfy constraint"), {
        name: 'ValidationException',
      });
    }
    const arn = this.executionArn(strategy, name);
    this.started.push({ strategy, name, input: JSON.parse(input) as Record<string, unknown>, arn });
    return arn;
  }

  executionArn(strategy: DeploymentStrategy, name: string): string {
    return executionArnOf(`arn:aws:states:us-east-1:000000000000:stateMachine:${strategy}`, name);
  }

  /** runs once inside the next stop, as what the execution did just before it was stopped */
  beforeNextStop: (() => Promise<unknown>) | undefined;

  async stop(executionArn: string, cause: string): Promise<void> {
    const before = this.beforeNextStop;
    this.beforeNextStop = undefined;
    await before?.();
    this.stopped.push(executionArn);
    this.stops.push({ arn: executionArn, cause });
  }

  async status(): Promise<undefined> {
    return undefined;
  }
}

/** What the state machine's Dispatch state hands on: the agent's output, or its failure. */
export type TaskOutcome =
  | { readonly result: Readonly<Record<string, JsonValue>> }
  | { readonly error: string; readonly cause: string };

/**
 * The table writes of the compiled state machine, without running it: each method sends the
 * very request the definition's state sends (built by lambdas/workflow/table-requests.ts),
 * with its JSONPath values filled in. Tests use it to move deployments and tasks along the
 * way a real execution would, status index included. Each write answers whether its
 * condition held (a failed condition is an answer to the workflow, not an error).
 */
export class StateMachineWrites {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** MarkDeploymentRunning: pending → running, started_at. */
  markDeploymentRunning(deploymentId: string, at: string): Promise<boolean> {
    return this.update(
      {
        entity: 'DEPLOYMENT',
        idPath: '$.id',
        status: 'running',
        from: ['pending'],
        set: { started_at: ':now' },
      },
      deploymentId,
      at,
    );
  }

  /** `<step>.MarkRunning`: pending → running, started_at, attempt + 1. */
  startTask(taskId: string, at: string): Promise<boolean> {
    return this.update(
      {
        entity: 'TASK',
        idPath: '$.id',
        status: 'running',
        from: ['pending'],
        set: { started_at: ':now' },
        add: { attempt: ':one' },
        values: { ':one': { N: '1' } },
      },
      taskId,
      at,
    );
  }

  /** `<step>.MarkSucceeded` with the agent's output, or `<step>.MarkFailed` with its error. */
  finishTask(taskId: string, outcome: TaskOutcome, at: string): Promise<boolean> {
    const result = 'result' in outcome ? outcome.result : { error: outcome.error, cause: outcome.cause };
    return this.update(
      {
        entity: 'TASK',
        idPath: '$.id',
        status: 'result' in outcome ? 'success' : 'failed',
        from: ['running'],
        set: { result: ':result', completed_at: ':now' },
        values: { ':result': { S: JSON.stringify(result) } },
      },
      taskId,
      at,
    );
  }

  /** A whole task: MarkRunning, then MarkSucceeded or MarkFailed. */
  async runTask(taskId: string, outcome: TaskOutcome, at: string): Promise<boolean> {
    return (await this.startTask(taskId, at)) && this.finishTask(taskId, outcome, at);
  }

  /** MarkDeploymentSucceeded / MarkDeploymentFailed alone: the lock is still held after it. */
  markDeploymentFinished(
    deploymentId: string,
    outcome: 'success' | { readonly error_message: string },
    at: string,
  ): Promise<boolean> {
    return this.update(
      outcome === 'success'
        ? {
            entity: 'DEPLOYMENT',
            idPath: '$.id',
            status: 'success',
            from: ['running'],
            set: { completed_at: ':now' },
          }
        : {
            entity: 'DEPLOYMENT',
            idPath: '$.id',
            status: 'failed',
            from: ['running'],
            set: { completed_at: ':now', error_message: ':error_message' },
            values: { ':error_message': { S: outcome.error_message } },
          },
      deploymentId,
      at,
    );
  }

  /** The last states: MarkDeploymentSucceeded / MarkDeploymentFailed, then the lock release. */
  async finishDeployment(
    deploymentId: string,
    environmentId: string,
    outcome: 'success' | { readonly error_message: string },
    at: string,
  ): Promise<boolean> {
    const finished = await this.markDeploymentFinished(deploymentId, outcome, at);
    await this.releaseLock(deploymentId, environmentId);
    return finished;
  }

  /** ReleaseEnvironmentLock: deletes the lock only while this deployment holds it. */
  async releaseLock(deploymentId: string, environmentId: string): Promise<boolean> {
    const request = this.resolve(releaseLockRequest('$.environment_id', '$.deployment_id'), {
      '$.environment_id': environmentId,
      '$.deployment_id': deploymentId,
    });
    // The request is AWS's DeleteItem JSON shape once its JSONPath fields are filled in.
    return this.attempt(() =>
      this.client.send(new DeleteItemCommand(request as unknown as DeleteItemCommandInput)),
    );
  }

  private update(update: StatusUpdate, id: string, at: string): Promise<boolean> {
    const request = this.resolve(statusUpdateRequest(update), { '$.id': id }, at);
    // The request is AWS's UpdateItem JSON shape once its JSONPath fields are filled in.
    return this.attempt(() =>
      this.client.send(new UpdateItemCommand(request as unknown as UpdateItemCommandInput)),
    );
  }

  private async attempt(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Evaluates the `.$` fields the requests use: the state's entry time, `States.Format` of a
   * key around an id, and plain paths. Anything else throws, so a change in the definition's
   * requests shows up here instead of silently writing something else.
   */
  private resolve(request: JsonObject, paths: Readonly<Record<string, string>>, at?: string): JsonObject {
    const evaluate = (expression: string): string => {
      if (expression === NOW_TIMESTAMP && at !== undefined) return at;
      const path = paths[expression];
      if (path !== undefined) return path;
      const format = /^States\.Format\('([^']*)', (\$\.[a-z_]+)\)$/.exec(expression);
      const argument = format?.[2] === undefined ? undefined : paths[format[2]];
      if (format?.[1] !== undefined && argument !== undefined) return format[1].replace('{}', argument);
      throw new Error(`StateMachineWrites cannot evaluate ${expression}`);
    };
    const walk = (value: JsonValue): JsonValue => {
      if (value === TABLE_NAME_PLACEHOLDER) return this.tableName;
      if (Array.isArray(value)) return value.map(walk);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, member]) =>
          key.endsWith('.$') && typeof member === 'string'
            ? [key.slice(0, -2), evaluate(member)]
            : [key, walk(member)],
        ),
      );
    };
    const resolved = walk(request);
    if (resolved === null || typeof resolved !== 'object' || Array.isArray(resolved)) {
      throw new Error('a request resolves to an object');
    }
    return resolved;
  }
}

/** A BusinessMetrics that records what the API counted. */
export class RecordingMetrics implements BusinessMetrics {
  readonly created: DeploymentStrategy[] = [];
  cancelled = 0;
  readonly retried: string[] = [];

  deploymentCreated(strategy: DeploymentStrategy): void {
    this.created.push(strategy);
  }

  deploymentCancelled(): void {
    this.cancelled += 1;
  }

  taskRetried(taskType: string): void {
    this.retried.push(taskType);
  }
}

export interface ReportedFault {
  readonly message: string;
  readonly error: unknown;
}

/**
 * The deployments and tasks handlers wired as lambdas/handlers wires them, on a test table,
 * with RecordingWorkflows for Step Functions and StateMachineWrites for what the executions
 * would write; plus the handlers of what deployments use, to set the scene through the API.
 */
export interface DeploymentWorld {
  readonly store: StoreContext;
  readonly workflows: RecordingWorkflows;
  readonly machine: StateMachineWrites;
  readonly metrics: RecordingMetrics;
  readonly faults: ReportedFault[];
  readonly repositories: {
    readonly deployments: DeploymentRepository;
    readonly tasks: TaskRepository;
    readonly versions: VersionRepository;
    readonly applications: ApplicationRepository;
    readonly environments: EnvironmentRepository;
  };
  readonly handlers: {
    readonly deployments: ApiHandler;
    readonly tasks: ApiHandler;
    readonly versions: ApiHandler;
    readonly applications: ApiHandler;
    readonly environments: ApiHandler;
  };
  /** a deployments handler whose service reads through other dependencies (stale reads, …) */
  deploymentsHandlerWith(overrides: Partial<DeploymentServiceDependencies>): ApiHandler;
  /** Plays a whole execution: every task succeeds, then the deployment, and the lock is released. */
  succeed(deploymentId: string): Promise<void>;
  /**
   * Plays an execution in which the first application's `stepId` fails: its earlier steps
   * succeed, its later ones stay pending, other applications succeed; the deployment ends
   * failed with the workflow's message and the lock is released. Answers the failed task.
   */
  fail(deploymentId: string, stepId: string): Promise<Task>;
  /** Through the API: a version, applications and an environment (unique name), each answered 201. */
  seedVersion(overrides?: Record<string, unknown>): Promise<Version>;
  seedApplication(overrides?: Record<string, unknown>): Promise<Application>;
  seedEnvironment(overrides?: Record<string, unknown>): Promise<Environment>;
  /** A version, `count` applications (`service-<n>`) and a fresh environment nothing else deploys to. */
  scene(count?: number, environment?: Record<string, unknown>): Promise<Scene>;
  /** POST /deployments by a deployer, expecting 201. */
  deploy(body: unknown): Promise<Deployment>;
}

export interface Scene {
  readonly version: Version;
  readonly applications: readonly Application[];
  readonly environment: Environment;
}

/** The POST /deployments body that deploys a scene, plus `extra` fields. */
export const requestFor = (scene: Scene, extra: Record<string, unknown> = {}) => ({
  version_id: scene.version.id,
  application_ids: scene.applications.map((application) => application.id),
  environment_id: scene.environment.id,
  ...extra,
});

export function deploymentWorld(table: TestTable): DeploymentWorld {
  const store: StoreContext = { client: table.documentClient, tableName: table.tableName };
  const workflows = new RecordingWorkflows();
  const metrics = new RecordingMetrics();
  const faults: ReportedFault[] = [];
  const reportFault = (message: string, error: unknown) => {
    faults.push({ message, error });
  };
  const repositories = {
    deployments: createDeploymentRepository(store),
    tasks: createTaskRepository(store),
    versions: createVersionRepository(store),
    applications: createApplicationRepository(store),
    environments: createEnvironmentRepository(store),
  };
  const usage = createUsageGuard(store);
  const deploymentDependencies: DeploymentServiceDependencies = {
    deployments: repositories.deployments,
    tasks: repositories.tasks,
    versions: repositories.versions,
    applications: repositories.applications,
    environments: repositories.environments,
    workflows,
    templates: WORKFLOW_TEMPLATES,
    metrics,
    reportFault,
  };
  const deploymentsHandlerWith = (overrides: Partial<DeploymentServiceDependencies>) =>
    createDeploymentsHandler(createDeploymentService({ ...deploymentDependencies, ...overrides }));
  const machine = new StateMachineWrites(table.client, table.tableName);

  const load = async (deploymentId: string) => {
    const record = await repositories.deployments.getById(deploymentId);
    if (!record) throw new Error(`no deployment ${deploymentId}`);
    return { deployment: record.deployment, tasks: await repositories.tasks.getByDeploymentId(deploymentId) };
  };

  async function succeed(deploymentId: string): Promise<void> {
    const { deployment, tasks } = await load(deploymentId);
    const at = nowTimestamp();
    await machine.markDeploymentRunning(deploymentId, at);
    for (const task of tasks) await machine.runTask(task.id, { result: { ok: true } }, at);
    await machine.finishDeployment(deploymentId, deployment.environment_id, 'success', at);
  }

  async function fail(deploymentId: string, stepId: string): Promise<Task> {
    const { deployment, tasks } = await load(deploymentId);
    const [failing] = deployment.application_ids;
    const at = nowTimestamp();
    await machine.markDeploymentRunning(deploymentId, at);
    let failed: Task | undefined;
    for (const task of tasks) {
      if (task.application_id !== failing) {
        await machine.runTask(task.id, { result: { ok: true } }, at);
      } else if (!failed && task.step_id !== stepId) {
        await machine.runTask(task.id, { result: { ok: true } }, at);
      } else if (!failed) {
        await machine.runTask(task.id, { error: 'StepFailed', cause: `${stepId} exited with 1` }, at);
        failed = task;
      }
    }
    if (!failed) throw new Error(`no step ${stepId} in deployment ${deploymentId}`);
    await machine.finishDeployment(
      deploymentId,
      deployment.environment_id,
      {
        error_message: `Task ${failed.id} (${stepId}) of application ${failing} failed: StepFailed: ${stepId} exited with 1`,
      },
      at,
    );
    const after = await repositories.tasks.getById(failed.id);
    if (!after) throw new Error(`task ${failed.id} vanished`);
    return after;
  }

  const handlers = {
    deployments: deploymentsHandlerWith({}),
    tasks: createTasksHandler(
      createTaskService({
        tasks: repositories.tasks,
        logs: createTaskLogRepository(store),
        deployments: repositories.deployments,
        workflows,
        metrics,
        reportFault,
      }),
    ),
    versions: createVersionsHandler(createVersionService(repositories.versions, usage)),
    applications: createApplicationsHandler(createApplicationService(repositories.applications, usage)),
    environments: createEnvironmentsHandler(createEnvironmentService(repositories.environments, usage)),
  };

  const created = async <T>(
    schema: z.ZodType<T>,
    handler: ApiHandler,
    path: string,
    body: unknown,
    claims: Claims = ADMIN,
  ) => {
    const answer = await callApi(handler, { method: 'POST', path, body, claims });
    expect(answer.status).toBe(201);
    return schema.parse(answer.body);
  };
  let unique = 0;
  const seedVersion = (overrides: Record<string, unknown> = {}) =>
    created(Version, handlers.versions, '/api/v1/versions', {
      git_tag: 'v1.2.3',
      git_commit: 'abc123def456',
      repository: 'https://github.com/org/repo',
      ...overrides,
    });
  const seedApplication = (overrides: Record<string, unknown> = {}) =>
    created(Application, handlers.applications, '/api/v1/applications', {
      name: 'api-service',
      repository: 'https://github.com/org/repo',
      type: 'microservice',
      config: { port: '8080' },
      ...overrides,
    });
  const seedEnvironment = (overrides: Record<string, unknown> = {}) => {
    unique += 1;
    return created(Environment, handlers.environments, '/api/v1/environments', {
      name: `production-${Date.now()}-${unique}`,
      type: 'kubernetes',
      config: { cluster: 'prod-cluster', namespace: 'default' },
      ...overrides,
    });
  };

  return {
    store,
    workflows,
    machine,
    seedVersion,
    seedApplication,
    seedEnvironment,
    async scene(count = 1, environment = {}) {
      const version = await seedVersion();
      const applications: Application[] = [];
      for (let index = 0; index < count; index += 1) {
        applications.push(await seedApplication({ name: `service-${index}` }));
      }
      return { version, applications, environment: await seedEnvironment(environment) };
    },
    deploy: (body) => created(Deployment, handlers.deployments, '/api/v1/deployments', body, DEPLOYER),
    succeed,
    fail,
    metrics,
    faults,
    repositories,
    handlers,
    deploymentsHandlerWith,
  };
}
