import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../../lambdas/http/aws-faults';
import { ApiError } from '../../../lambdas/http/errors';

const named = (name: string) => Object.assign(new Error(`${name} happened`), { name });
const network = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const answerOf = (error: unknown) => {
  const mapped = toApiError(error);
  return mapped instanceof ApiError ? { status: mapped.status, code: mapped.code } : mapped;
};

describe('AWS faults as API answers', () => {
  it.each([
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'RequestLimitExceeded',
    'LimitExceededException',
    'InternalServerError',
    'ServiceUnavailable',
    'TimeoutError',
    'RequestTimeout',
    'RequestTimeoutException',
  ])('%s: 503, the caller may retry', (name) => {
    expect(answerOf(named(name))).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'])(
    'the network fault %s: 503',
    (code) => {
      expect(answerOf(network(code))).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    },
  );

  it('a transaction that lost a race: 409, read again and retry', () => {
    expect(answerOf(named('TransactionConflictException'))).toEqual({ status: 409, code: 'CONFLICT' });
    expect(answerOf(cancelled('None', 'TransactionConflict'))).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it('a transaction cancelled by throttling: 503', () => {
    expect(answerOf(cancelled('ThrottlingError'))).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(answerOf(cancelled('None', 'ProvisionedThroughputExceeded'))).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    });
  });

  it('leaves anything else unexpected (a 500 without its text), and an API error as it is', () => {
    const failedCondition = cancelled('ConditionalCheckFailed');
    expect(toApiError(failedCondition)).toBe(failedCondition);
    const unknown = named('AccessDeniedException');
    expect(toApiError(unknown)).toBe(unknown);
    const other = network('ENOENT');
    expect(toApiError(other)).toBe(other);
    const api = new ApiError('NOT_FOUND', 404, 'gone');
    expect(toApiError(api)).toBe(api);
  });
});
