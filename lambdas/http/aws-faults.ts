import { domainToApiError, isDomainError } from './domain-errors';
import { ApiError, conflict, serviceUnavailable } from './errors';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function nameOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && NETWORK.has(code) ? code : error.name;
  }
  return '';
}

/**
 * Maps what the domain and the store refuse (domain-errors.ts) and AWS SDK faults to API
 * errors: throttling, timeouts and network faults become a 503 the caller may retry; a
 * transaction that lost a race becomes a 409. Anything else stays unexpected (a 500 without
 * its text).
 */
export function toApiError(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  if (isDomainError(error)) return domainToApiError(error);
  const name = nameOf(error);
  if (THROTTLING.has(name) || NETWORK.has(name)) return serviceUnavailable();
  if (name === 'TransactionConflictException') {
    return conflict('The item was changed by a concurrent request; retry');
  }
  if (name === 'TransactionCanceledException') {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
      return conflict('The item was changed by a concurrent request; retry');
    }
    if (
      reasons.some(
        (reason) => reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded',
      )
    ) {
      return serviceUnavailable();
    }
  }
  return error;
}
