import { Conflict, DomainError, InvalidInput, NotFound, TooLarge, Unavailable } from '../domain/errors';
import { ApiError } from './errors';

/** The one place where what the domain means becomes an HTTP answer. */
export function domainToApiError(error: DomainError): ApiError {
  if (error instanceof NotFound) return new ApiError('NOT_FOUND', 404, error.message, error.details);
  if (error instanceof Conflict) return new ApiError('CONFLICT', 409, error.message, error.details);
  if (error instanceof InvalidInput)
    return new ApiError('VALIDATION_ERROR', 400, error.message, error.issues);
  if (error instanceof TooLarge) return new ApiError('PAYLOAD_TOO_LARGE', 413, error.message, error.details);
  if (error instanceof Unavailable)
    return new ApiError('SERVICE_UNAVAILABLE', 503, error.message, error.details);
  return new ApiError('INTERNAL_ERROR', 500, 'An internal error occurred');
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;
