import { randomUUID } from 'node:crypto';
import { ROOT_INPUT_FIELD, ROOT_START_TIME_FIELD } from './definition';
import type { RunOptions } from './interpreter';
import type { JsonValue } from './json';

export type ContextObject = NonNullable<RunOptions['context']>;

/**
 * What `$$.Task.Token` evaluates to inside the interpreter. It has one context object per
 * run, so it cannot give each waiting task its own token; the SQS integration swaps this
 * placeholder for a fresh token in the message it sends (see integrations/sqs.ts).
 */
export const TASK_TOKEN_PLACEHOLDER = `local-sfn-task-token-placeholder-${randomUUID()}`;

export interface ExecutionIdentity {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
  readonly input: JsonValue;
  readonly startDate: Date;
}

/**
 * The Context Object (`$$`) of one execution, shaped as on AWS:
 *  - `Execution.StartTime` is the execution's start date (ISO-8601 with milliseconds and
 *    Z); `Execution.Input`/`StartTime` paths are redirected to the `Root*` copies so that
 *    Parallel branches and Map iterations see the execution's values (definition.ts);
 *  - `State.EnteredTime` is a getter: it is read while the interpreter evaluates a
 *    state's InputPath/Parameters/ItemSelector, i.e. on entering the state, so it is per
 *    state. Read from a ResultSelector it gives the time the task ended instead.
 *  - `State.Name` is substituted into the definition per state (definition.ts);
 *  - `State.RetryCount` is always 0: the interpreter does not expose its retry counter.
 */
export function contextObjectFor(execution: ExecutionIdentity): ContextObject {
  const startTime = execution.startDate.toISOString();
  return {
    Execution: {
      Id: execution.executionArn,
      Name: execution.executionName,
      RoleArn: execution.roleArn,
      Input: execution.input,
      StartTime: startTime,
      RedriveCount: 0,
      [ROOT_INPUT_FIELD]: structuredClone(execution.input),
      [ROOT_START_TIME_FIELD]: startTime,
    },
    StateMachine: { Id: execution.stateMachineArn, Name: execution.stateMachineName },
    State: {
      get EnteredTime() {
        return new Date().toISOString();
      },
      RetryCount: 0,
    },
    Task: { Token: TASK_TOKEN_PLACEHOLDER },
  };
}
