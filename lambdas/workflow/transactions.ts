import type { AslStates, JsonObject } from './asl';
import {
  CONDITION_FAILED_CAUSE,
  TRANSACTION_CANCELLED,
  TRANSIENT_CANCELLATION_CAUSES,
  transactionRetry,
} from './retry-policy';
import { transactWrite } from './table-requests';

/** The AWS SDK integration: the optimized DynamoDB integration has no transactions. */
export const TRANSACT_WRITE_ITEMS = 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems';

/** How long a write waits before it is sent again after a conflicting transaction. */
export const TRANSACTION_CONFLICT_WAIT_SECONDS = 1;

export interface TransactionalWrite {
  /** the Task state; `<name>.Cancelled` and `<name>.WaitToRewrite` come with it */
  readonly name: string;
  readonly items: readonly JsonObject[];
  /** `{ Next }` or `{ End, OutputPath }` after the write */
  readonly continuation: JsonObject;
  /** a condition of an item failed: an answer, never retried */
  readonly onConditionFailed: string;
  /** any other failure (throttling retries used up, a malformed request, …) */
  readonly onFailure: string;
  /** where the caught error goes */
  readonly errorPath: string;
}

/**
 * A TransactWriteItems state, and the two states that sort its cancellations. Every
 * cancellation is the same error (`DynamoDb.TransactionCanceledException`); only its Cause
 * lists the reasons. So the write's Retry covers the other transient faults, and a Choice
 * on the Cause sends a failed condition to `onConditionFailed` (once: an answer) and a
 * conflicting transaction or a throttled item back to the write after a pause (as often
 * as it takes: a conflict never fails the write).
 */
export function transactionalWriteStates(write: TransactionalWrite): AslStates {
  const cancelled = `${write.name}.Cancelled`;
  const wait = `${write.name}.WaitToRewrite`;
  const cause = `${write.errorPath}.Cause`;
  return {
    [write.name]: {
      Type: 'Task',
      Resource: TRANSACT_WRITE_ITEMS,
      Parameters: transactWrite(write.items),
      ResultPath: null,
      Retry: transactionRetry(),
      Catch: [
        { ErrorEquals: [TRANSACTION_CANCELLED], ResultPath: write.errorPath, Next: cancelled },
        { ErrorEquals: ['States.ALL'], ResultPath: write.errorPath, Next: write.onFailure },
      ],
      ...write.continuation,
    },
    [cancelled]: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: cause, IsPresent: true }, Next: write.onFailure },
        { Variable: cause, StringMatches: CONDITION_FAILED_CAUSE, Next: write.onConditionFailed },
        {
          Or: TRANSIENT_CANCELLATION_CAUSES.map((pattern) => ({ Variable: cause, StringMatches: pattern })),
          Next: wait,
        },
      ],
      Default: write.onFailure,
    },
    [wait]: { Type: 'Wait', Seconds: TRANSACTION_CONFLICT_WAIT_SECONDS, Next: write.name },
  };
}
