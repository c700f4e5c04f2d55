import {
  type AttributeValue,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
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
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import {
  createDeploymentRepository,
  type DeploymentRepository,
} from '../../lambdas/store/deployment-repository';
import {
  createEnvironmentRepository,
  type EnvironmentRepository,
} from '../../lambdas/store/environment-repository';
import { entityKey } from '../../lambdas/store/keys';
import type { StoreContext } from '../../lambdas/store/store-context';
import { isConditionFailure } from '../../lambdas/store/store-errors';
import { createTaskLogRepository } from '../../lambdas/store/task-log-repository';
import { createTaskRepository, type TaskRepository } from '../../lambdas/store/task-repository';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository, type VersionRepository } from '../../lambdas/store/version-repository';
import {
  compileWorkflow,
  DEPLOYMENT_STATES,
  stepStateNames,
  WORKFLOW_TEMPLATES,
} from '../../lambdas/workflow';
import {
  isJsonObject,
  type JsonObject,
  type JsonValue,
  TABLE_NAME_PLACEHOLDER,
} from '../../lambdas/workflow/asl';
import { NOW_TIMESTAMP } from '../../lambdas/workflow/table-requests';
import { ADMIN, type ApiHandler, type Claims, callApi, DEPLOYER } from './api-events';
import type { TestTable } from './dynamodb';
import { useTestCredentials } from './secrets-manager';

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
 * very request the definition's state sends (its Parameters, taken from the compiled
 * templates), with its JSONPath and intrinsic values filled in. Tests use it to move
 * deployments and tasks along the way a real execution would, status index and list
 * counters included. Each write answers whether its condition held (a failed condition is
 * an answer to the workflow, not an error).
 */
export class StateMachineWrites {
  readonly #definitions = Object.values(WORKFLOW_TEMPLATES).map(compileWorkflow);

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** MarkDeploymentRunning: pending → running, started_at, counters. */
  async markDeploymentRunning(deploymentId: string, at: string): Promise<boolean> {
    return this.transact(DEPLOYMENT_STATES.markRunning, await this.deploymentPaths(deploymentId), at);
  }

  /** `<step>.ReadTask`, then `<step>.MarkRunning`: pending → running, started_at, attempt + 1, counters. */
  async startTask(taskId: string, at: string): Promise<boolean> {
    const { stepId, paths } = await this.taskPaths(taskId);
    return this.transact(stepStateNames(stepId).markRunning, paths, at);
  }

  /**
   * `<step>.StoreResult` and `<step>.MarkSucceeded` with the agent's output, or
   * `<step>.MarkFailed` with its error.
   */
  async finishTask(taskId: string, outcome: TaskOutcome, at: string): Promise<boolean> {
    const { stepId, paths } = await this.taskPaths(taskId);
    const names = stepStateNames(stepId);
    if ('result' in outcome) {
      const withOutput = { ...paths, 'States.JsonToString($.output)': JSON.stringify(outcome.result) };
      const request = this.resolve(this.parameters(names.storeResult), withOutput, at);
      const stored = await this.attempt(() =>
        this.client.send(new UpdateItemCommand(request as unknown as UpdateItemCommandInput)),
      );
      return stored && this.transact(names.markSucceeded, paths, at);
    }
    const failure = JSON.stringify({ error: outcome.error, cause: outcome.cause });
    return this.transact(names.markFailed, { ...paths, 'States.JsonToString($.failure)': failure }, at);
  }

  /** A whole task: MarkRunning, then MarkSucceeded or MarkFailed. */
  async runTask(taskId: string, outcome: TaskOutcome, at: string): Promise<boolean> {
    return (await this.startTask(taskId, at)) && this.finishTask(taskId, outcome, at);
  }

  /** MarkDeploymentSucceededAlone / MarkDeploymentFailedAlone: the lock is still held after it. */
  async markDeploymentFinished(
    deploymentId: string,
    outcome: 'success' | { readonly error_message: string },
    at: string,
  ): Promise<boolean> {
    const state =
      outcome === 'success' ? DEPLOYMENT_STATES.markSucceededAlone : DEPLOYMENT_STATES.markFailedAlone;
    return this.transact(state, await this.deploymentPaths(deploymentId, outcome), at);
  }

  /**
   * The last states: MarkDeploymentSucceeded / MarkDeploymentFailed (status, counters and
   * lock release in one transaction); when refused, the status alone and the lock alone.
   */
  async finishDeployment(
    deploymentId: string,
    environmentId: string,
    outcome: 'success' | { readonly error_message: string },
    at: string,
  ): Promise<boolean> {
    const state = outcome === 'success' ? DEPLOYMENT_STATES.markSucceeded : DEPLOYMENT_STATES.markFailed;
    const paths = await this.deploymentPaths(deploymentId, outcome);
    if (await this.transact(state, { ...paths, '$.environment_id': environmentId }, at)) return true;
    const finished = await this.markDeploymentFinished(deploymentId, outcome, at);
    await this.releaseLock(deploymentId, environmentId);
    return finished;
  }

  /** ReleaseEnvironmentLock: deletes the lock only while this deployment holds it. */
  async releaseLock(deploymentId: string, environmentId: string): Promise<boolean> {
    const request = this.resolve(this.parameters(DEPLOYMENT_STATES.releaseLock), {
      '$.environment_id': environmentId,
      '$.deployment_id': deploymentId,
    });
    // The request is AWS's DeleteItem JSON shape once its JSONPath fields are filled in.
    return this.attempt(() =>
      this.client.send(new DeleteItemCommand(request as unknown as DeleteItemCommandInput)),
    );
  }

  /** The Parameters of a state of the compiled definition, nested ones included. */
  private parameters(stateName: string): JsonObject {
    const find = (machine: JsonValue): JsonObject | undefined => {
      if (!isJsonObject(machine) || !isJsonObject(machine.States)) return undefined;
      for (const [name, state] of Object.entries(machine.States)) {
        if (!isJsonObject(state)) continue;
        if (name === stateName && isJsonObject(state.Parameters)) return state.Parameters;
        const children = [
          ...(Array.isArray(state.Branches) ? state.Branches : []),
          ...(state.ItemProcessor === undefined ? [] : [state.ItemProcessor]),
        ];
        for (const child of children) {
          const found = find(child);
          if (found) return found;
        }
      }
      return undefined;
    };
    for (const definition of this.#definitions) {
      const found = find(definition);
      if (found) return found;
    }
    throw new Error(`no compiled template has a state ${stateName} with Parameters`);
  }

  private async readItem(entity: 'TASK' | 'DEPLOYMENT', id: string): Promise<Record<string, AttributeValue>> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(entityKey(entity, id)),
        ConsistentRead: true,
      }),
    );
    if (!Item) throw new Error(`no ${entity} ${id} in the table`);
    return Item;
  }

  /** What the task's states read from the state data and from ReadTask. */
  private async taskPaths(taskId: string): Promise<{ stepId: string; paths: Record<string, string> }> {
    const item = await this.readItem('TASK', taskId);
    const stepId = item.step_id?.S;
    if (stepId === undefined) throw new Error(`task ${taskId} has no step_id`);
    return {
      stepId,
      paths: {
        [`$.tasks.${stepId}.task_id`]: taskId,
        '$.existing.Item.attempt.N': item.attempt?.N ?? '0',
      },
    };
  }

  /** What the deployment's states read from the execution input (and the failure message). */
  private async deploymentPaths(
    deploymentId: string,
    outcome?: 'success' | { readonly error_message: string },
  ): Promise<Record<string, string>> {
    const item = await this.readItem('DEPLOYMENT', deploymentId);
    return {
      '$.deployment_id': deploymentId,
      '$.environment_id': item.environment_id?.S ?? '',
      '$.version_id': item.version_id?.S ?? '',
      ...(outcome === undefined || outcome === 'success'
        ? {}
        : { 'States.ArrayGetItem($.failure.messages, 0)': outcome.error_message }),
    };
  }

  private transact(stateName: string, paths: Readonly<Record<string, string>>, at: string): Promise<boolean> {
    const request = this.resolve(this.parameters(stateName), paths, at);
    // The request is AWS's TransactWriteItems JSON shape once its JSONPath fields are filled in.
    return this.attempt(() =>
      this.client.send(new TransactWriteItemsCommand(request as unknown as TransactWriteItemsCommandInput)),
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
   * key or counter around values, and the paths and intrinsics given. Anything else throws,
   * so a change in the definition's requests shows up here instead of silently writing
   * something else.
   */
  private resolve(request: JsonObject, paths: Readonly<Record<string, string>>, at?: string): JsonObject {
    const evaluate = (expression: string): string => {
      if (expression === NOW_TIMESTAMP && at !== undefined) return at;
      const path = paths[expression];
      if (path !== undefined) return path;
      const format = /^States\.Format\('((?:[^'\\]|\\.)*)', (.+)\)$/.exec(expression);
      if (format?.[1] !== undefined && format[2] !== undefined) {
        const values = format[2].split(', ').map(evaluate);
        let next = 0;
        return format[1].replace(
          /\\(.)|\{\}/g,
          (_match, escaped: string | undefined) => escaped ?? values[next++] ?? '',
        );
      }
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
    if (!isJsonObject(resolved)) throw new Error('a request resolves to an object');
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
    environments: createEnvironmentsHandler(
      createEnvironmentService(
        repositories.environments,
        usage,
        useTestCredentials().credentials,
        createCredentialAccessLog(store),
      ),
    ),
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
