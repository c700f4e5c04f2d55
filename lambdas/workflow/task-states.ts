import { TASK_MESSAGE_PROTOCOL_VERSION } from '../agent-protocol/task-message';
import { type AslStates, type JsonObject, TASK_QUEUE_URL_PLACEHOLDER } from './asl';
import { CONDITION_FAILED, dynamoDbRetry, sqsRetry } from './retry-policy';
import { readTaskStatusRequest, statusUpdateRequest } from './table-requests';
import { heartbeatSecondsOf, timeoutSecondsOf, type WorkflowStep } from './templates';

/**
 * The states of one template step inside an application's iteration.
 *
 * The iteration's state data (built by the Map's ItemSelector, see compiler.ts) is
 *   { application_id, deployment_id, environment_id, version_id,
 *     tasks: { <step id>: { task_id, payload } },
 *     summary: { application_id, failed: false } }
 * and the step's states only add scratch members next to it (run, output, error,
 * existing, failure), so the following steps find it unchanged.
 *
 * Happy path: MarkRunning → Dispatch → MarkSucceeded (three transitions per task).
 * Resume: MarkRunning's condition fails → ReadTask → CheckTask → skipped when `success`.
 * Failure: → CheckCause → (AddCause) → DescribeFailure → MarkFailed → Failed, which ends
 * the iteration (or the Parallel branch) with
 *   { application_id, failed: true, error_message }.
 * A step that ends its branch/iteration successfully outputs `summary` instead.
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
    markRunning: `${stepId}.MarkRunning`,
    dispatch: `${stepId}.Dispatch`,
    markSucceeded: `${stepId}.MarkSucceeded`,
    readTask: `${stepId}.ReadTask`,
    checkTask: `${stepId}.CheckTask`,
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

const catchAll = (next: string, resultPath: string): JsonObject => ({
  ErrorEquals: ['States.ALL'],
  ResultPath: resultPath,
  Next: next,
});

/** How the step continues after it succeeded (or was skipped): the next state, or the end of its branch. */
function continuation(next: string | undefined): JsonObject {
  return next === undefined ? { OutputPath: ITERATION.summary, End: true } : { Next: next };
}

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
    'attempt.$': '$.run.attempt',
    'payload.$': ITERATION.payload(step.id),
    'task_token.$': '$$.Task.Token',
    heartbeat_seconds: heartbeatSecondsOf(step),
    timeout_seconds: timeoutSecondsOf(step),
  };
}

/**
 * The states of `step`; `next` is the state that follows a success, or undefined when the
 * step ends its Parallel branch or the application's iteration.
 */
export function stepStates(step: WorkflowStep, next: string | undefined): AslStates {
  const names = stepStateNames(step.id);
  const taskIdPath = ITERATION.taskId(step.id);
  const failureMessagePrefix = `Task {} (${step.id}) of application {}`;

  const states: AslStates = {
    [names.markRunning]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Parameters: statusUpdateRequest({
        entity: 'TASK',
        idPath: taskIdPath,
        status: 'running',
        from: ['pending'],
        set: { started_at: ':now' },
        add: { attempt: ':one' },
        values: { ':one': { N: '1' } },
        returnValues: 'UPDATED_NEW',
      }),
      // The attempt number comes back as DynamoDB's string-typed number.
      ResultSelector: { 'attempt.$': 'States.StringToJson($.Attributes.attempt.N)' },
      ResultPath: '$.run',
      Retry: dynamoDbRetry(),
      Catch: [
        // Not pending: an earlier execution got to it first (success → skip it; see CheckTask).
        { ErrorEquals: [CONDITION_FAILED], ResultPath: '$.error', Next: names.readTask },
        catchAll(names.checkCause, '$.error'),
      ],
      Next: names.dispatch,
    },
    [names.dispatch]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: { QueueUrl: TASK_QUEUE_URL_PLACEHOLDER, MessageBody: dispatchMessageBody(step) },
      HeartbeatSeconds: heartbeatSecondsOf(step),
      TimeoutSeconds: timeoutSecondsOf(step),
      ResultPath: '$.output',
      Retry: sqsRetry(),
      // Agent failure, States.HeartbeatTimeout, States.Timeout, or SQS faults left after retries.
      Catch: [catchAll(names.checkCause, '$.error')],
      Next: names.markSucceeded,
    },
    [names.markSucceeded]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Parameters: statusUpdateRequest({
        entity: 'TASK',
        idPath: taskIdPath,
        status: 'success',
        from: ['running'],
        set: { result: ':result', completed_at: ':now' },
        values: { ':result': { 'S.$': 'States.JsonToString($.output)' } },
      }),
      ResultPath: null,
      Retry: dynamoDbRetry(),
      // The result could not be recorded: fail the task rather than leave it running.
      Catch: [catchAll(names.checkCause, '$.error')],
      ...continuation(next),
    },

    [names.readTask]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:getItem',
      Parameters: readTaskStatusRequest(taskIdPath),
      ResultPath: '$.existing',
      Retry: dynamoDbRetry(),
      Catch: [catchAll(names.checkCause, '$.error')],
      Next: names.checkTask,
    },
    [names.checkTask]: {
      Type: 'Choice',
      Choices: [
        // No such task: report the failed condition itself ($.error).
        { Not: { Variable: '$.existing.Item.status.S', IsPresent: true }, Next: names.checkCause },
        {
          Variable: '$.existing.Item.status.S',
          StringEquals: 'success',
          Next: next ?? names.skipped,
        },
      ],
      Default: names.notPending,
    },
    [names.notPending]: {
      Type: 'Pass',
      Parameters: {
        'application_id.$': ITERATION.applicationId,
        failed: true,
        'error_message.$': `States.Format('${failureMessagePrefix} is {}', ${taskIdPath}, ${ITERATION.applicationId}, $.existing.Item.status.S)`,
      },
      End: true,
    },

    [names.checkCause]: {
      Type: 'Choice',
      Choices: [{ Not: { Variable: '$.error.Cause', IsPresent: true }, Next: names.addCause }],
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
    [names.markFailed]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Parameters: statusUpdateRequest({
        entity: 'TASK',
        idPath: taskIdPath,
        status: 'failed',
        from: ['running'],
        set: { result: ':result', completed_at: ':now' },
        values: { ':result': { 'S.$': 'States.JsonToString($.failure)' } },
      }),
      ResultPath: null,
      Retry: dynamoDbRetry(),
      // Not running (it never started, or a cancel already failed it): nothing to record.
      Catch: [catchAll(names.failed, '$.write_error')],
      Next: names.failed,
    },
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
