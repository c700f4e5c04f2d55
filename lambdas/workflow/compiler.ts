import { MAX_APPLICATIONS_PER_DEPLOYMENT } from '../domain/deployment';
import type { StatusTransition } from '../store/status-transition';
import type { AslStates, JsonObject, StateMachineDefinition } from './asl';
import { layerSteps } from './dag';
import { CONDITION_FAILED, dynamoDbRetry, finalWriteRetry } from './retry-policy';
import {
  deploymentFilters,
  type ItemTransition,
  itemTransitionUpdate,
  releaseLockItem,
  releaseLockRequest,
  transitionItems,
} from './table-requests';
import { ITERATION, stepStateNames, stepStates } from './task-states';
import { timeoutSecondsOf, type WorkflowStep, type WorkflowTemplate } from './templates';
import { transactionalWriteStates } from './transactions';

/**
 * Template → Step Functions definition (JSONPath only; the same definition runs on AWS and
 * in the local interpreter). Shape:
 *
 *   MarkDeploymentRunning (pending → running, with its counters: one transaction)
 *     ├─ not pending ─► MarkDeploymentResumed (running → running: a retry's new execution)
 *     │                   └─ not running (cancelled before start) ─► DeploymentNotRunnable
 *     └► RunApplications (Map over $.applications, 10 at a time; one iteration runs one
 *        application's steps, layer by layer, see applicationProcessor)
 *        └► SummarizeApplications → CheckApplications
 *             ├► MarkDeploymentSucceeded (status, counters, lock release) → DeploymentSucceeded
 *             │    └─ refused ─► MarkDeploymentSucceededAlone → ReleaseEnvironmentLock
 *             └► DescribeDeploymentFailure → MarkDeploymentFailed → DeploymentFailed (Fail)
 *                  └─ refused ─► MarkDeploymentFailedAlone → ReleaseEnvironmentLockAfterFailure
 *
 * An iteration never fails: a failed task ends its application's iteration with
 * `{application_id, failed: true, error_message}`, so the other applications carry on and
 * no task is left `running`.
 */

/** At most this many applications run at once (also the most one deployment may hold). */
export const MAX_CONCURRENT_APPLICATIONS = 10;

/** Top-level state names. Step states are `<step id>.<Name>` and layers `Layer<n>…`, so none collide. */
export const DEPLOYMENT_STATES = {
  markRunning: 'MarkDeploymentRunning',
  markResumed: 'MarkDeploymentResumed',
  notRunnable: 'DeploymentNotRunnable',
  runApplications: 'RunApplications',
  summarize: 'SummarizeApplications',
  check: 'CheckApplications',
  writeFailed: 'DeploymentWriteFailed',
  markSucceeded: 'MarkDeploymentSucceeded',
  markSucceededAlone: 'MarkDeploymentSucceededAlone',
  releaseLock: 'ReleaseEnvironmentLock',
  succeeded: 'DeploymentSucceeded',
  describeFailure: 'DescribeDeploymentFailure',
  markFailed: 'MarkDeploymentFailed',
  markFailedAlone: 'MarkDeploymentFailedAlone',
  releaseLockAfterFailure: 'ReleaseEnvironmentLockAfterFailure',
  failed: 'DeploymentFailed',
} as const;

/** The Fail state's Error: what CloudWatch and DescribeExecution show for a failed deployment. */
export const DEPLOYMENT_FAILED_ERROR = 'DeploymentFailed';

const layerName = (index: number): string => `Layer${index + 1}`;

/** The state a layer starts with: its only step's first state, or its Parallel state. */
function layerEntry(layer: readonly WorkflowStep[], index: number): string {
  const [only] = layer;
  return layer.length === 1 && only ? stepStateNames(only.id).readTask : layerName(index);
}

/**
 * Steps of one layer run side by side in a Parallel whose branches never fail (a failed
 * step ends its branch with a failure object), so siblings finish before we decide: a
 * Choice over `$.layer[i].failed` (the number of branches is known here) ends the
 * iteration with the first failure, or goes on to the next layer.
 */
function parallelLayerStates(
  layer: readonly WorkflowStep[],
  index: number,
  next: string | undefined,
): AslStates {
  const name = layerName(index);
  const done = `${name}.Done`;
  const failedName = (step: WorkflowStep) => `${name}.Failed.${step.id}`;
  const states: AslStates = {
    [name]: {
      Type: 'Parallel',
      Branches: layer.map((step) => ({
        StartAt: stepStateNames(step.id).readTask,
        States: stepStates(step, undefined),
      })),
      ResultPath: '$.layer',
      Next: `${name}.Check`,
    },
    [`${name}.Check`]: {
      Type: 'Choice',
      Choices: layer.map((step, branch) => ({
        Variable: `$.layer[${branch}].failed`,
        BooleanEquals: true,
        Next: failedName(step),
      })),
      Default: next ?? done,
    },
  };
  layer.forEach((step, branch) => {
    states[failedName(step)] = { Type: 'Pass', OutputPath: `$.layer[${branch}]`, End: true };
  });
  if (next === undefined) states[done] = { Type: 'Succeed', OutputPath: ITERATION.summary };
  return states;
}

/** One application's steps, layer after layer (dag.ts layerSteps). */
function applicationProcessor(template: WorkflowTemplate): StateMachineDefinition {
  const layers = layerSteps(template);
  const states: AslStates = {};
  layers.forEach((layer, index) => {
    const following = layers[index + 1];
    const next = following ? layerEntry(following, index + 1) : undefined;
    const [only] = layer;
    Object.assign(
      states,
      layer.length === 1 && only ? stepStates(only, next) : parallelLayerStates(layer, index, next),
    );
  });
  const [first] = layers;
  if (!first) throw new Error('unreachable: a validated template has a step');
  return { StartAt: layerEntry(first, 0), States: states };
}

/** What every iteration starts with; ITERATION (task-states.ts) reads it. */
const ITERATION_INPUT: JsonObject = {
  'application_id.$': '$$.Map.Item.Value.application_id',
  'tasks.$': '$$.Map.Item.Value.tasks',
  'deployment_id.$': '$.deployment_id',
  'environment_id.$': '$.environment_id',
  'version_id.$': '$.version_id',
  // An iteration that succeeds outputs this, ready-made (no state spent on shaping it).
  summary: { 'application_id.$': '$$.Map.Item.Value.application_id', failed: false },
};

const S = DEPLOYMENT_STATES;

/** Where the execution input (the top-level state) holds what the deployment's writes need. */
const ITERATION_PATHS = {
  deploymentId: '$.deployment_id',
  environmentId: '$.environment_id',
  versionId: '$.version_id',
} as const;

const DEPLOYMENT_FILTERS = deploymentFilters(ITERATION_PATHS.environmentId, ITERATION_PATHS.versionId);

const deploymentTransition = (
  from: StatusTransition['from'],
  to: StatusTransition['to'],
): StatusTransition => ({ entity: 'DEPLOYMENT', from, to });

/**
 * The deployment's last write: its final status, its counters and the lock release in one
 * transaction. When that is refused (a cancel got there first, or the lock is gone), the
 * status alone (if it is still running) and then the lock alone (if it still holds it).
 */
function finalWriteStates(options: {
  readonly write: string;
  readonly alone: string;
  readonly releaseLock: string;
  readonly end: string;
  readonly item: ItemTransition;
}): AslStates {
  const releaseLock = {
    Type: 'Task' as const,
    Resource: 'arn:aws:states:::dynamodb:deleteItem',
    Parameters: releaseLockRequest(ITERATION_PATHS.environmentId, ITERATION_PATHS.deploymentId),
    ResultPath: null,
    Retry: finalWriteRetry(),
    // Someone else holds it (a cancel already released it): nothing to do.
    Catch: [{ ErrorEquals: [CONDITION_FAILED], ResultPath: '$.error', Next: options.end }],
    Next: options.end,
  };
  return {
    ...transactionalWriteStates({
      name: options.write,
      items: transitionItems(options.item, DEPLOYMENT_FILTERS, [
        releaseLockItem(ITERATION_PATHS.environmentId, ITERATION_PATHS.deploymentId),
      ]),
      continuation: { Next: options.end },
      onConditionFailed: options.alone,
      onFailure: options.alone,
      errorPath: '$.error',
    }),
    // Not running any more (cancelled meanwhile): keep the cancel's verdict, still free the lock.
    ...transactionalWriteStates({
      name: options.alone,
      items: transitionItems(options.item, DEPLOYMENT_FILTERS),
      continuation: { Next: options.releaseLock },
      onConditionFailed: options.releaseLock,
      onFailure: options.releaseLock,
      errorPath: '$.error',
    }),
    [options.releaseLock]: releaseLock,
  };
}

function deploymentStates(template: WorkflowTemplate): AslStates {
  return {
    ...transactionalWriteStates({
      name: S.markRunning,
      items: transitionItems(
        {
          transition: deploymentTransition('pending', 'running'),
          idPath: ITERATION_PATHS.deploymentId,
          // Not if_not_exists: the API stores a fresh deployment's started_at as null, which exists.
          clauses: { set: { started_at: ':now' } },
        },
        DEPLOYMENT_FILTERS,
      ),
      continuation: { Next: S.runApplications },
      // Not pending: a retry's new execution (running, keep started_at) or a cancel (see below).
      onConditionFailed: S.markResumed,
      onFailure: S.writeFailed,
      errorPath: '$.error',
    }),
    [S.markResumed]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      // running → running moves no counter: a plain conditional update.
      Parameters: itemTransitionUpdate({
        transition: deploymentTransition('running', 'running'),
        idPath: ITERATION_PATHS.deploymentId,
      }),
      ResultPath: null,
      Retry: dynamoDbRetry(),
      // Neither pending nor running: cancelled before the execution began. Leave everything
      // as the cancel left it.
      Catch: [{ ErrorEquals: [CONDITION_FAILED], ResultPath: '$.error', Next: S.notRunnable }],
      Next: S.runApplications,
    },
    [S.notRunnable]: { Type: 'Succeed' },
    [S.writeFailed]: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    [S.runApplications]: {
      Type: 'Map',
      ItemsPath: '$.applications',
      MaxConcurrency: MAX_CONCURRENT_APPLICATIONS,
      ItemSelector: ITERATION_INPUT,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...applicationProcessor(template) },
      // A wildcard in a `.$` field of a payload template is plain JSONPath on AWS and in the
      // interpreter alike, and never empty (there is at least one application).
      ResultSelector: { 'failed.$': '$[*].failed', 'results.$': '$' },
      ResultPath: '$.outcome',
      Next: S.summarize,
    },
    [S.summarize]: {
      Type: 'Pass',
      Parameters: { 'any_failed.$': 'States.ArrayContains($.outcome.failed, true)' },
      ResultPath: '$.verdict',
      Next: S.check,
    },
    [S.check]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.verdict.any_failed', BooleanEquals: true, Next: S.describeFailure }],
      Default: S.markSucceeded,
    },

    ...finalWriteStates({
      write: S.markSucceeded,
      alone: S.markSucceededAlone,
      releaseLock: S.releaseLock,
      end: S.succeeded,
      item: {
        transition: deploymentTransition('running', 'success'),
        idPath: ITERATION_PATHS.deploymentId,
        clauses: { set: { completed_at: ':now' } },
      },
    }),
    [S.succeeded]: { Type: 'Succeed' },

    [S.describeFailure]: {
      Type: 'Pass',
      // Only reached when an application failed, so the filter matches at least one
      // result (the interpreter, unlike AWS, rejects an empty match).
      Parameters: { 'messages.$': '$.outcome.results[?(@.failed == true)].error_message' },
      ResultPath: '$.failure',
      Next: S.markFailed,
    },
    ...finalWriteStates({
      write: S.markFailed,
      alone: S.markFailedAlone,
      releaseLock: S.releaseLockAfterFailure,
      end: S.failed,
      item: {
        transition: deploymentTransition('running', 'failed'),
        idPath: ITERATION_PATHS.deploymentId,
        clauses: { set: { completed_at: ':now', error_message: ':error_message' } },
        values: { ':error_message': { 'S.$': 'States.ArrayGetItem($.failure.messages, 0)' } },
      },
    }),
    [S.failed]: { Type: 'Fail', Error: DEPLOYMENT_FAILED_ERROR, CausePath: '$.failure.messages[0]' },
  };
}

/**
 * The Step Functions definition of `template` (throws TemplateError for an invalid one).
 * `${TableName}` and `${TaskQueueUrl}` stay as placeholders: see renderDefinition.
 */
export function compileWorkflow(template: WorkflowTemplate): StateMachineDefinition {
  return {
    Comment: `deploy-manager workflow "${template.name}": ${template.steps.map((step) => step.id).join(', ')}`,
    StartAt: S.markRunning,
    TimeoutSeconds: executionTimeoutSeconds(template),
    States: deploymentStates(template),
  };
}

/** Room on top of the task waits for the table writes, with their retries, around them. */
export const EXECUTION_TIMEOUT_SLACK_SECONDS = 3600;
/** The longest a Standard execution may run. */
const MAX_EXECUTION_SECONDS = 365 * 24 * 3600;

/**
 * The execution's own time limit: the longest its task waits can take (an iteration runs the
 * template's layers one after the other, each as long as its slowest step's TimeoutSeconds;
 * applications beyond the Map's concurrency wait for a later round), plus slack. An execution
 * past it is stuck, not slow: it ends TIMED_OUT, which the `ExecutionsTimedOut` alarm reports,
 * and the deployment is then cancelled and retried (docs/operations.md).
 */
export function executionTimeoutSeconds(template: WorkflowTemplate): number {
  const perApplication = layerSteps(template).reduce(
    (total, layer) => total + Math.max(...layer.map(timeoutSecondsOf)),
    0,
  );
  const rounds = Math.ceil(MAX_APPLICATIONS_PER_DEPLOYMENT / MAX_CONCURRENT_APPLICATIONS);
  return Math.min(MAX_EXECUTION_SECONDS, perApplication * rounds + EXECUTION_TIMEOUT_SLACK_SECONDS);
}
