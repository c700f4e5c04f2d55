/**
 * Errors are values with a code and an HTTP status; the error middleware turns them into
 * `{"error": {"code", "message", "details"?}}`. Anything that is not an `ApiError` becomes a
 * plain 500 and its text never reaches the client.
 */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export type ErrorDetails = readonly FieldIssue[] | Readonly<Record<string, unknown>>;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const validationError = (message: string, details: readonly FieldIssue[]): ApiError =>
  new ApiError('VALIDATION_ERROR', 400, message, details);

export const unauthorized = (): ApiError =>
  new ApiError('UNAUTHORIZED', 401, 'A valid bearer token is required');

export const forbidden = (needed: string): ApiError =>
  new ApiError('FORBIDDEN', 403, `This action needs the ${needed} role`);

export const notFound = (thing: string, id: string): ApiError =>
  new ApiError('NOT_FOUND', 404, `${thing} ${id} not found`, { id });

export const conflict = (message: string, details?: ErrorDetails): ApiError =>
  new ApiError('CONFLICT', 409, message, details);

export const serviceUnavailable = (): ApiError =>
  new ApiError('SERVICE_UNAVAILABLE', 503, 'The service is busy; retry the request shortly');
