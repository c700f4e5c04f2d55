/**
 * An error of the Step Functions API itself. `type` becomes the `__type` of the AWS JSON
 * 1.0 error body, which is what makes `@aws-sdk/client-sfn` throw its named exception
 * class (`ExecutionDoesNotExist`, `TaskTimedOut`, …).
 */
export class SfnServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

// Messages follow the wording Step Functions uses, so logs read the same in both runtimes.
export const sfnErrors = {
  validation: (message: string) => new SfnServiceError('ValidationException', message),
  unknownOperation: (target: string) =>
    new SfnServiceError('UnknownOperationException', `Unknown operation: '${target}'`),
  invalidArn: (arn: string) => new SfnServiceError('InvalidArn', `Invalid Arn: '${arn}'`),
  invalidName: (name: string) => new SfnServiceError('InvalidName', `Invalid Name: '${name}'`),
  invalidDefinition: (reason: string) =>
    new SfnServiceError('InvalidDefinition', `Invalid State Machine Definition: '${reason}'`),
  invalidExecutionInput: (reason: string) =>
    new SfnServiceError('InvalidExecutionInput', `Invalid Execution Input: '${reason}'`),
  invalidOutput: (reason: string) => new SfnServiceError('InvalidOutput', `Invalid Output: '${reason}'`),
  invalidToken: (reason: string) => new SfnServiceError('InvalidToken', `Invalid Token: '${reason}'`),
  stateMachineDoesNotExist: (arn: string) =>
    new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`),
  stateMachineAlreadyExists: (arn: string) =>
    new SfnServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`),
  executionDoesNotExist: (arn: string) =>
    new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`),
  executionAlreadyExists: (arn: string) =>
    new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`),
  taskDoesNotExist: () => new SfnServiceError('TaskDoesNotExist', 'Task Does Not Exist'),
  taskTimedOut: () =>
    new SfnServiceError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'"),
} as const;

/**
 * A task state's failure as the state machine sees it: the interpreter matches `name`
 * against `Retry`/`Catch` `ErrorEquals` and reports `message` as the Cause.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/**
 * Ends a task whose execution (or enclosing Parallel/Map) is gone. The interpreter reads
 * `isRetryable`/`isCatchable` off thrown errors, so with both false no Retry or Catch runs
 * another state after a StopExecution, as on AWS.
 */
export class TaskCancelled extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(reason: string) {
    super(reason);
    this.name = 'States.Cancelled';
  }
}

/** Like AWS's States.Runtime: a definition/data mismatch no Retry or Catch may handle. */
export class StatesRuntimeFailure extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(cause: string) {
    super(cause);
    this.name = 'States.Runtime';
  }
}

// What the interpreter reports for a Fail state that names no Error/Cause.
const FAIL_STATE_DEFAULT_ERROR = 'FailStateError';
const FAIL_STATE_DEFAULT_CAUSE = 'Execution failed because of a Fail state';

/**
 * An execution's error and cause as AWS reports them: a Fail state without Error/Cause
 * leaves them out, where the interpreter fills in its own defaults.
 */
export function executionFailure(error: string, cause: string): { error?: string; cause?: string } {
  return {
    ...(error === FAIL_STATE_DEFAULT_ERROR ? {} : { error }),
    ...(cause === FAIL_STATE_DEFAULT_CAUSE ? {} : { cause }),
  };
}
