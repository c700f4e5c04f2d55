import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambdas/metrics/catalogue';
import type { LogLevel } from './config';
import type { DataTable, TableItemAction } from './data-table';
import { executionArnPattern, type Workflows } from './workflows';

/** The repository root: NodejsFunction's project root and where handler entries live. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `lambdas/handlers/<name>.ts`, the entry file of one function. */
export const handlerEntry = (name: string): string =>
  fileURLToPath(new URL(`../lambdas/handlers/${name}.ts`, import.meta.url));

export const RUNTIME = Runtime.NODEJS_24_X;
export const ARCHITECTURE = Architecture.ARM_64;

/**
 * Modules replaced in the bundles (replacements relative to PROJECT_ROOT), each by a smaller
 * module with the same behaviour for every call the bundle makes (see lib/bundling/).
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  semver: './lib/bundling/semver.ts',
};

/**
 * What the bundles import at run time instead of carrying: the AWS SDK for JavaScript v3,
 * which the nodejs24.x runtime ships (every `@aws-sdk/*` client and `lib-dynamodb`, with
 * their `@smithy/*` dependencies). Everything else is bundled.
 */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*'] as const;

/**
 * ESM needs `require` for the CommonJS dependencies that load Node built-ins with it; the
 * banner gives the bundle one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * How every handler is bundled, exported so `scripts/bench` and the bundle-budget test can
 * build exactly what the stack deploys: one minified ES module per handler, tree-shaken, with
 * a source map.
 *
 * The AWS SDK v3 is taken from the Lambda runtime rather than bundled (what NodejsFunction
 * does by default on Node.js 18 and later), because the 300 KB budget per handler cannot be
 * met otherwise: bundled and tree-shaken, even with its credential chain cut down to the
 * environment provider, the SDK (the clients and their shared `@smithy/*` core) adds 206 to
 * 231 KB of minified code to each API handler, and a handler doing no more than one DynamoDB
 * read and one Step Functions call through middy and the Powertools logger, metrics and
 * tracer weighs 361 KB with the SDK inside (135 KB without). The price is a slower cold
 * start (the runtime's SDK is loaded from its unminified CommonJS files: about 25 to 30 ms
 * more than a bundled SDK on the bench machine) and an SDK version chosen by the runtime;
 * the handlers call only long-standing DynamoDB and Step Functions operations, which every
 * SDK v3 release has, and the tests run against the versions in package-lock.json.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  // ES module builds first, so esbuild can drop what a handler does not use.
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  // Stack traces need the mappings only, not a copy of the sources.
  sourcesContent: false,
  banner: ESM_REQUIRE_BANNER,
  bundleAwsSDK: false,
  externalModules: [...RUNTIME_PROVIDED_MODULES],
  esbuildArgs: {
    '--alias': Object.entries(BUNDLE_ALIASES).map(([module, replacement]) => `${module}=${replacement}`),
  },
  // Bundle with the esbuild in node_modules: `cdk synth` needs no Docker.
  forceDockerBundling: false,
} as const satisfies BundlingOptions;

/**
 * The esbuild options that produce the same bundle as BUNDLING does through CDK, for tools
 * that bundle a handler without synthesizing the stack (`scripts/bench`).
 */
export function esbuildOptions(handler: string, outfile: string): BuildOptions {
  return {
    entryPoints: [handlerEntry(handler)],
    outfile,
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    banner: { js: BUNDLING.banner },
    external: [...BUNDLING.externalModules],
    alias: { ...BUNDLE_ALIASES },
    logLevel: 'warning',
  };
}

/**
 * NODE_OPTIONS of every function: stack traces in the logs point at the TypeScript sources
 * (Node then reads each bundle's source map as it loads it, which the bench's cold imports include).
 */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** The Step Functions actions a function may be granted: on the state machines, or on their executions. */
export type WorkflowAction = 'states:StartExecution' | 'states:StopExecution' | 'states:DescribeExecution';

export interface ServiceFunctionProps {
  /** handler file name under lambdas/handlers/, without `.ts` */
  readonly handler: string;
  readonly description: string;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly logLevel: LogLevel;
  readonly memorySize?: number;
  readonly timeout?: Duration;
}

/**
 * A Lambda function of this service: Node.js 24 on ARM64, bundled by `BUNDLING`, JSON logs
 * to its own log group with a retention, X-Ray active, Powertools configured. Its role starts
 * empty (no AWS managed policy): it may write to its log group, and each `use…` method adds
 * exactly the access, and the environment, that one capability needs.
 */
export class ServiceFunction extends NodejsFunction {
  readonly functionLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    super(scope, id, {
      entry: handlerEntry(props.handler),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      description: props.description,
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      bundling: BUNDLING,
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[props.logLevel],
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Same level as Lambda's own log filter, so Powertools does not warn about a mismatch.
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
      },
    });
    this.functionLogGroup = logGroup;
    logGroup.grantWrite(role);
  }

  /** TABLE_NAME, and exactly `actions` on the table (and Query on its indexes). */
  useTable(table: DataTable, actions: readonly TableItemAction[]): this {
    this.addEnvironment('TABLE_NAME', table.table.tableName);
    table.grantItems(this, actions);
    return this;
  }

  /**
   * STATE_MACHINE_ARNS (`{"<strategy>": "<arn>"}`) and exactly `actions`: StartExecution on the
   * state machines, Stop/DescribeExecution on their executions.
   */
  useWorkflows(workflows: Workflows, actions: readonly WorkflowAction[]): this {
    const arns = Object.fromEntries(
      [...workflows.stateMachines].map(([name, machine]) => [name, machine.stateMachineArn]),
    );
    this.addEnvironment('STATE_MACHINE_ARNS', Stack.of(this).toJsonString(arns));
    const machines = [...workflows.stateMachines.values()];
    if (actions.includes('states:StartExecution')) {
      Grant.addToPrincipal({
        grantee: this,
        actions: ['states:StartExecution'],
        resourceArns: machines.map((machine) => machine.stateMachineArn),
      });
    }
    const onExecutions = actions.filter((action) => action !== 'states:StartExecution');
    if (onExecutions.length > 0) {
      Grant.addToPrincipal({
        grantee: this,
        actions: onExecutions,
        resourceArns: machines.map(executionArnPattern),
      });
    }
    return this;
  }
}
