import type { Retrier } from './asl';

/**
 * Error names as Step Functions reports them, and the Retry lists built from them.
 *  - Optimized integrations (`arn:aws:states:::dynamodb:*`, `sqs:*`): `<Service>.<Exception>`
 *    with the service's own prefix (`DynamoDB.`, `SQS.`).
 *  - AWS SDK integrations (`arn:aws:states:::aws-sdk:dynamodb:*`): `<ServiceName>.<ErrorName>`,
 *    both PascalCase, the service as the SDK names it (`DynamoDb.`), always with the
 *    `Exception` suffix.
 * A failed condition is an answer, never a transient fault: no retrier matches it.
 */

export const CONDITION_FAILED = 'DynamoDB.ConditionalCheckFailedException';

/** What `transactWriteItems` fails with when any item's condition fails or the items conflict. */
export const TRANSACTION_CANCELLED = 'DynamoDb.TransactionCanceledException';

/** Throttling and server-side faults of DynamoDB that a later attempt may not meet. */
export const DYNAMODB_TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.InternalServerError',
  'DynamoDB.ServiceUnavailableException',
  'DynamoDB.TransactionConflictException',
];

/** The same faults through the AWS SDK integration (TransactWriteItems). */
export const DYNAMODB_SDK_TRANSIENT_ERRORS = [
  'DynamoDb.ProvisionedThroughputExceededException',
  'DynamoDb.ThrottlingException',
  'DynamoDb.RequestLimitExceededException',
  'DynamoDb.InternalServerErrorException',
  'DynamoDb.ServiceUnavailableException',
  'DynamoDb.TransactionInProgressException',
];

/**
 * The cancellation reasons of a cancelled transaction are in its Cause, in item order:
 * `Transaction cancelled, please refer cancellation reasons for specific reasons
 * [ConditionalCheckFailed, None] (Service: DynamoDb, …)`. These patterns (Choice
 * StringMatches) sort a cancellation into an answer (a condition failed) and a transient
 * fault (a conflicting transaction or a throttled item), which is written again.
 */
export const CONDITION_FAILED_CAUSE = '*ConditionalCheckFailed*';
export const TRANSIENT_CANCELLATION_CAUSES = [
  '*TransactionConflict*',
  '*ThrottlingError*',
  '*ProvisionedThroughputExceeded*',
];

/** Faults of SQS SendMessage (before the task waits for its token). */
export const SQS_TRANSIENT_ERRORS = [
  'SQS.SdkClientException',
  'SQS.AmazonSQSException',
  'SQS.RequestThrottled',
  'SQS.RequestThrottledException',
  'SQS.KmsThrottled',
  'SQS.KmsThrottledException',
  'SQS.InternalError',
  'SQS.ServiceUnavailable',
];

/**
 * How Step Functions' Cause of a failed SendMessage names the service (the optimized
 * integration's SDK message; the local stand-in's is the second). An agent's
 * SendTaskFailure under an SQS name carries whatever cause it chose.
 */
export const SQS_SERVICE_CAUSES = ['*(Service: AmazonSQS;*', '*(Service: Sqs,*'];

/** How often a genuine SendMessage failure is sent again before the task fails. */
export const MAX_DISPATCH_RESENDS = 3;

const backoff = { IntervalSeconds: 1, BackoffRate: 2, MaxDelaySeconds: 20, JitterStrategy: 'FULL' } as const;

export const dynamoDbRetry = (): Retrier[] => [
  { ErrorEquals: [...DYNAMODB_TRANSIENT_ERRORS], MaxAttempts: 6, ...backoff },
];

export const transactionRetry = (): Retrier[] => [
  { ErrorEquals: [...DYNAMODB_SDK_TRANSIENT_ERRORS], MaxAttempts: 6, ...backoff },
];

/**
 * For the last write of an execution (the lock release), which must not be lost to a
 * passing fault: also retries integration failures (`States.TaskFailed`). The first
 * retrier keeps the conditional-check failure out of that wildcard: only the first
 * retrier that matches an error applies, and it allows no attempt.
 */
export const finalWriteRetry = (): Retrier[] => [
  { ErrorEquals: [CONDITION_FAILED], MaxAttempts: 0 },
  { ErrorEquals: [...DYNAMODB_TRANSIENT_ERRORS], MaxAttempts: 8, ...backoff },
  { ErrorEquals: ['States.TaskFailed'], MaxAttempts: 3, ...backoff },
];
