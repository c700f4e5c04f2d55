import type { Retrier } from './asl';

/**
 * Error names as Step Functions reports them for the optimized integrations
 * (`<Service>.<Exception>`), and the Retry lists built from them. A conditional-check
 * failure is an answer, never a transient fault: no retrier matches it.
 */

export const CONDITION_FAILED = 'DynamoDB.ConditionalCheckFailedException';

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

const backoff = { IntervalSeconds: 1, BackoffRate: 2, MaxDelaySeconds: 20, JitterStrategy: 'FULL' } as const;

export const dynamoDbRetry = (): Retrier[] => [
  { ErrorEquals: [...DYNAMODB_TRANSIENT_ERRORS], MaxAttempts: 6, ...backoff },
];

export const sqsRetry = (): Retrier[] => [
  { ErrorEquals: [...SQS_TRANSIENT_ERRORS], MaxAttempts: 4, ...backoff },
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
