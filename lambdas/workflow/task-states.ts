import { TASK_MESSAGE_PROTOCOL_VERSION } from '../agent-protocol/task-message';
import { MAX_TASK_OUTPUT_BYTES } from '../agent-protocol/task-reports';
import type { StatusTransition } from '../store/status-transition';
import {
  type AslState,
  type AslStates,
  type JsonObject,
  TABLE_NAME_PLACEHOLDER,
  TASK_QUEUE_URL_PLACEHOLDER,
} from './asl';
import {
  dynamoDbRetry,
  MAX_DISPATCH_RESENDS,
  SQS_SERVICE_CAUSES,
  SQS_TRANSIENT_ERRORS,
} from './retry-policy';
import { entityKeyAt, readTaskRequest, taskFilters, transitionItems } from './table-requests';
import { heartbeatSecondsOf, timeoutSecondsOf, type WorkflowStep } from './templates';
import { transactionalWriteStates } from './transactions';

/**
 * The states of one template step inside an application's iteration.
 *
 * The iteration's state data (built by the Map's ItemSelector, see compiler.ts) is
 *   { application_id, deployment_id, environment_id, version_id,
 *     tasks: { <step id>: { task_id, payload } },
 *     summary: { application_id, failed: false } }
 * and the step's states only add scratch members next to it (existing, output, error,
 * failure, resends_<step id>), so the following steps find it unchanged.
 *
 * Happy path: ReadTask → CheckTask → MarkRunning → Dispatch → StoreResult → MarkSucceeded.
 * Resume: CheckTask finds `success` → skipped. Every failure, the agent's answers outside
 * the contract included, ends in MarkFailed → Failed, which ends the iteration (or the
 * Parallel branch) with { application_id, failed: true, error_message }. A step that ends
 * its branch/iteration successfully outputs `summary` instead. docs/workflows.md has the
 * diagram and the reasons.
 */

export const ITERATION = {
  applicationId: '$.application_id',
  deploymentId: '$.deployment_id',
  environmentId: '$.environment_id',
  versionId: '$.version_id',
  summary: '$.summary',
  taskId: (stepId: string) => `$.tasks.${stepId}.task_id`,
  payload: (stepId: string) => `$.tasks.${stepId}.payload`,
} as const;

export const stepStateNames = (stepId: string) =>
  ({
    readTask: `${stepId}.ReadTask`,
    checkTask: `${stepId}.CheckTask`,
    readTaskAgain: `${stepId}.ReadTaskAgain`,
    checkTaskAgain: `${stepId}.CheckTaskAgain`,
    missing: `${stepId}.Missing`,
    markRunning: `${stepId}.MarkRunning`,
    dispatch: `${stepId}.Dispatch`,
    checkSendFailure: `${stepId}.CheckSendFailure`,
    checkResends: `${stepId}.CheckResends`,
    firstResend: `${stepId}.FirstResend`,
    nextResend: `${stepId}.NextResend`,
    waitToResend: `${stepId}.WaitToResend`,
    checkTimeout: `${stepId}.CheckTimeout`,
    addAgentCause: `${stepId}.AddAgentCause`,
    reservedError: `${stepId}.ReservedErrorName`,
    storeResult: `${stepId}.StoreResult`,
    markSucceeded: `${stepId}.MarkSucceeded`,
    checkRejectedOutput: `${stepId}.CheckRejectedOutput`,
    outputNotObject: `${stepId}.OutputNotObject`,
    outputTooLarge: `${stepId}.OutputTooLarge`,
    outputOverStateLimit: `${stepId}.OutputOverStateLimit`,
    skipped: `${stepId}.Skipped`,
    notPending: `${stepId}.NotPending`,
    checkCause: `${stepId}.CheckCause`,
    addCause: `${stepId}.AddCause`,
    describeFailure: `${stepId}.DescribeFailure`,
    markFailed: `${stepId}.MarkFailed`,
    failed: `${stepId}.Failed`,
  }) as const;

/** Text given as the Cause when an error came without one, so the failure message can be built. */
export const MISSING_CAUSE = 'No cause was reported';

/** The error of a task whose agent answered outside the agent protocol. */
export const INVALID_OUTPUT_ERROR = 'InvalidTaskOutput';

export const OUTPUT_FAILURES = {
  notObject: "The agent's SendTaskSuccess output is not a JSON object",
  tooLarge: `The agent's SendTaskSuccess output is not a JSON object of at most ${MAX_TASK_OUTPUT_BYTES} bytes of JSON text (the agent protocol's limit)`,
  overStateLimit: `The agent's SendTaskSuccess output does not fit Step Functions' 256 KiB state limit (States.DataLimitExceeded); the agent protocol allows ${MAX_TASK_OUTPUT_BYTES} bytes of JSON text`,
} as const;

/** Put before the agent's cause when it named its error like Step Functions or AWS would. */
export const RESERVED_ERROR_NOTE =
  'Reported by the agent under a name the agent protocol reserves for Step Functions and AWS: ';

/** Where the agent's output waits, as JSON text, until MarkSucceeded checks and moves it to `result`. */
export const PENDING_RESULT_ATTRIBUTE = 'pending_result';

/** The first character of the JSON text of an object (`States.JsonToString` writes it compact). */
const JSON_OBJECT_START = '{';

/** The agent reported its answer under one of these names, or Step Functions did. */
const TIMEOUT_ERRORS = ['States.Timeout', 'States.HeartbeatTimeout'];

/** Choice rules for an error without a cause: none at all, or an empty one (which counts as none). */
const whenNoCause = (next: string): JsonObject[] => [
  { Not: { Variable: '$.error.Cause', IsPresent: true }, Next: next },
  { Variable: '$.error.Cause', StringEquals: '', Next: next },
];

const catchAll = (next: string, resultPath: string): JsonObject => ({
  ErrorEquals: ['States.ALL'],
  ResultPath: resultPath,
  Next: next,
});

/** How the step continues after it succeeded (or was skipped): the next state, or the end of its branch. */
function continuation(next: string | undefined): JsonObject {
  return next === undefined ? { OutputPath: ITERATION.summary, End: true } : { Next: next };
}

/** `$.existing` is the ReadTask result: `attempt` as DynamoDB's string-typed number. */
const READ_ATTEMPT = '$.existing.Item.attempt.N';

/** The attempt this run is: the one read plus one (MarkRunning writes the same). */
const RUN_ATTEMPT = `States.MathAdd(States.StringToJson(${READ_ATTEMPT}), 1)`;

/** The agent message: TaskMessageV1 (agent-protocol/task-message.ts), filled from the state data. */
export function dispatchMessageBody(step: WorkflowStep): JsonObject {
  return {
    protocol_version: TASK_MESSAGE_PROTOCOL_VERSION,
    'task_id.$': ITERATION.taskId(step.id),
    task_type: step.type,
    step_id: step.id,
    'deployment_id.$': ITERATION.deploymentId,
    'application_id.$': ITERATION.applicationId,
    'environment_id.$': ITERATION.environmentId,
    'version_id.$': ITERATION.versionId,
    'attempt.$': RUN_ATTEMPT,
    'payload.$': ITERATION.payload(step.id),
    'task_token.$': '$$.Task.Token',
    heartbeat_seconds: heartbeatSecondsOf(step),
    timeout_seconds: timeoutSecondsOf(step),
  };
}

const taskTransition = (from: StatusTransition['from'], to: StatusTransition['to']): StatusTransition => ({
  entity: 'TASK',
  from,
  to,
});

/** Sets `$.failure` to a fixed `{error, cause}` and goes on to MarkFailed. */
const failureOf = (error: string, cause: string, next: string): AslState => ({
  Type: 'Pass',
  Result: { error, cause },
  ResultPath: '$.failure',
  Next: next,
});

/**
 * The states of `step`; `next` is the state that follows a success, or undefined when the
 * step ends its Parallel branch or the application's iteration.
 */
export function stepStates(step: WorkflowStep, next: string | undefined): AslStates {
  const names = stepStateNames(step.id);
  const taskIdPath = ITERATION.taskId(step.id);
  const failureMessagePrefix = `Task {} (${step.id}) of application {}`;
  const filters = taskFilters(step.type);
  const resends = `$.resends_${step.id}`;
  const status = '$.existing.Item.status.S';

  /** Reads the task's item into `$.existing`, for the Choice `check` to judge. */
  const readTaskInto = (check: string): AslState => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:getItem',
    Parameters: readTaskRequest(taskIdPath),
    ResultPath: '$.existing',
    Retry: dynamoDbRetry(),
    Catch: [catchAll(names.checkCause, '$.error')],
    Next: check,
  });

  const states: AslStates = {
    [names.readTask]: readTaskInto(names.checkTask),
    [names.checkTask]: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: status, IsPresent: true }, Next: names.missing },
        // Done by an earlier execution (this one resumes a retried deployment): skip it.
        { Variable: status, StringEquals: 'success', Next: next ?? names.skipped },
        { Not: { Variable: status, StringEquals: 'pending' }, Next: names.notPending },
      ],
      Default: names.markRunning,
    },
    [names.readTaskAgain]: readTaskInto(names.checkTaskAgain),
    [names.checkTaskAgain]: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: status, IsPresent: true }, Next: names.missing },
        { Variable: status, StringEquals: 'success', Next: next ?? names.skipped },
      ],
      // Still pending (its attempt moved) or running / failed: another execution has it.
      Default: names.notPending,
    },
    [names.missing]: {
      Type: 'Pass',
      Result: { error: 'TaskNotFound', cause: 'The task is not in the table' },
      ResultPath: '$.failure',
      Next: names.failed,
    },
    // pending → running, only from the attempt read: the message carries the same number.
    ...transactionalWriteStates({
      name: names.markRunning,
      items: transitionItems(
        {
          transition: taskTransition('pending', 'running'),
          idPath: taskIdPath,
          clauses: {
            set: { started_at: ':now', attempt: '#attempt + :one' },
            condition: '#attempt = :read_attempt',
          },
          values: { ':one': { N: '1' }, ':read_attempt': { 'N.$': READ_ATTEMPT } },
        },
        filters,
      ),
      continuation: { Next: names.dispatch },
      // Someone else moved it since the read: read it once more (never a loop).
      onConditionFailed: names.readTaskAgain,
      onFailure: names.checkCause,
      errorPath: '$.error',
    }),
    [names.dispatch]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: { QueueUrl: TASK_QUEUE_URL_PLACEHOLDER, MessageBody: dispatchMessageBody(step) },
      HeartbeatSeconds: heartbeatSecondsOf(step),
      TimeoutSeconds: timeoutSecondsOf(step),
      ResultPath: '$.output',
      // No Retry: an SQS error name may be the agent's SendTaskFailure, and retrying would
      // run the task again. CheckSendFailure tells them apart by the Cause.
      Catch: [
        // Only caught when named: States.ALL does not match it.
        {
          ErrorEquals: ['States.DataLimitExceeded'],
          ResultPath: '$.error',
          Next: names.outputOverStateLimit,
        },
        { ErrorEquals: [...SQS_TRANSIENT_ERRORS], ResultPath: '$.error', Next: names.checkSendFailure },
        { ErrorEquals: TIMEOUT_ERRORS, ResultPath: '$.error', Next: names.checkTimeout },
        catchAll(names.checkCause, '$.error'),
      ],
      Next: names.storeResult,
    },
    [names.checkSendFailure]: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: '$.error.Cause', IsPresent: true }, Next: names.addAgentCause },
        {
          Or: SQS_SERVICE_CAUSES.map((pattern) => ({ Variable: '$.error.Cause', StringMatches: pattern })),
          Next: names.checkResends,
        },
      ],
      Default: names.reservedError,
    },
    [names.checkResends]: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: resends, IsPresent: true }, Next: names.firstResend },
        { Variable: `${resends}.count`, NumericLessThan: MAX_DISPATCH_RESENDS, Next: names.nextResend },
      ],
      Default: names.checkCause,
    },
    [names.firstResend]: {
      Type: 'Pass',
      Result: { count: 1 },
      ResultPath: resends,
      Next: names.waitToResend,
    },
    [names.nextResend]: {
      Type: 'Pass',
      Parameters: { 'count.$': `States.MathAdd(${resends}.count, 1)` },
      ResultPath: resends,
      Next: names.waitToResend,
    },
    [names.waitToResend]: { Type: 'Wait', Seconds: 2, Next: names.dispatch },
    [names.checkTimeout]: {
      Type: 'Choice',
      // Step Functions' own timeouts carry no Cause; an agent's SendTaskFailure under
      // these names does (an empty one counts as none).
      Choices: whenNoCause(names.checkCause),
      Default: names.reservedError,
    },
    [names.addAgentCause]: {
      Type: 'Pass',
      Result: MISSING_CAUSE,
      ResultPath: '$.error.Cause',
      Next: names.reservedError,
    },
    [names.reservedError]: {
      Type: 'Pass',
      Parameters: {
        'error.$': '$.error.Error',
        'cause.$': `States.Format('${RESERVED_ERROR_NOTE}{}', $.error.Cause)`,
      },
      ResultPath: '$.failure',
      Next: names.markFailed,
    },

    // The output as JSON text, beside the task until MarkSucceeded has checked it: DynamoDB's
    // size() reads attributes only, and JSONPath has no length.
    [names.storeResult]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Parameters: {
        TableName: TABLE_NAME_PLACEHOLDER,
        Key: entityKeyAt('TASK', taskIdPath),
        UpdateExpression: 'SET #pending_result = :pending_result',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#pending_result': PENDING_RESULT_ATTRIBUTE, '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending_result': { 'S.$': 'States.JsonToString($.output)' },
          ':running': { S: 'running' },
        },
      },
      ResultPath: null,
      Retry: dynamoDbRetry(),
      Catch: [
        { ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.error', Next: names.outputTooLarge },
        catchAll(names.checkCause, '$.error'),
      ],
      Next: names.markSucceeded,
    },
    ...transactionalWriteStates({
      name: names.markSucceeded,
      items: transitionItems(
        {
          transition: taskTransition('running', 'success'),
          idPath: taskIdPath,
          clauses: {
            set: { result: `#${PENDING_RESULT_ATTRIBUTE}`, completed_at: ':now' },
            remove: [PENDING_RESULT_ATTRIBUTE],
            condition: `size(#${PENDING_RESULT_ATTRIBUTE}) <= :max_output_bytes AND begins_with(#${PENDING_RESULT_ATTRIBUTE}, :json_object)`,
          },
          values: {
            ':max_output_bytes': { N: String(MAX_TASK_OUTPUT_BYTES) },
            ':json_object': { S: JSON_OBJECT_START },
          },
        },
        filters,
      ),
      continuation: continuation(next),
      // Not a JSON object, too large, or no longer running (cancelled: MarkFailed then
      // finds it not running and writes nothing).
      onConditionFailed: names.checkRejectedOutput,
      onFailure: names.checkCause,
      errorPath: '$.error',
    }),
    [names.checkRejectedOutput]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.output', IsNull: true, Next: names.outputNotObject },
        { Variable: '$.output', IsString: true, Next: names.outputNotObject },
        { Variable: '$.output', IsNumeric: true, Next: names.outputNotObject },
        { Variable: '$.output', IsBoolean: true, Next: names.outputNotObject },
        { Variable: '$.output[0]', IsPresent: true, Next: names.outputNotObject },
      ],
      Default: names.outputTooLarge,
    },
    [names.outputNotObject]: failureOf(INVALID_OUTPUT_ERROR, OUTPUT_FAILURES.notObject, names.markFailed),
    [names.outputTooLarge]: failureOf(INVALID_OUTPUT_ERROR, OUTPUT_FAILURES.tooLarge, names.markFailed),
    [names.outputOverStateLimit]: failureOf(
      INVALID_OUTPUT_ERROR,
      OUTPUT_FAILURES.overStateLimit,
      names.markFailed,
    ),

    [names.notPending]: {
      Type: 'Pass',
      Parameters: {
        'application_id.$': ITERATION.applicationId,
        failed: true,
        'error_message.$': `States.Format('${failureMessagePrefix} is {}', ${taskIdPath}, ${ITERATION.applicationId}, ${status})`,
      },
      End: true,
    },

    [names.checkCause]: {
      Type: 'Choice',
      Choices: whenNoCause(names.addCause),
      Default: names.describeFailure,
    },
    [names.addCause]: {
      Type: 'Pass',
      Result: MISSING_CAUSE,
      ResultPath: '$.error.Cause',
      Next: names.describeFailure,
    },
    [names.describeFailure]: {
      Type: 'Pass',
      Parameters: { 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' },
      ResultPath: '$.failure',
      Next: names.markFailed,
    },
    // Not running (it never started, or a cancel already failed it): nothing to record.
    ...transactionalWriteStates({
      name: names.markFailed,
      items: transitionItems(
        {
          transition: taskTransition('running', 'failed'),
          idPath: taskIdPath,
          clauses: { set: { result: ':result', completed_at: ':now' }, remove: [PENDING_RESULT_ATTRIBUTE] },
          values: { ':result': { 'S.$': 'States.JsonToString($.failure)' } },
        },
        filters,
      ),
      continuation: { Next: names.failed },
      onConditionFailed: names.failed,
      onFailure: names.failed,
      errorPath: '$.write_error',
    }),
    [names.failed]: {
      Type: 'Pass',
      Parameters: {
        'application_id.$': ITERATION.applicationId,
        failed: true,
        'error_message.$': `States.Format('${failureMessagePrefix} failed: {}: {}', ${taskIdPath}, ${ITERATION.applicationId}, $.failure.error, $.failure.cause)`,
      },
      End: true,
    },
  };
  if (next === undefined) {
    states[names.skipped] = { Type: 'Succeed', OutputPath: ITERATION.summary };
  }
  return states;
}
