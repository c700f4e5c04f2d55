import * as z from 'zod';
import type { ErrorCode } from '../http/errors';

/** Every code `ApiError` can carry; the type checks below keep this list and `ErrorCode` equal. */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const satisfies readonly ErrorCode[];

/** Fails to compile when `ErrorCode` gains a member this list lacks. */
export type MissingErrorCodes = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
export const errorCodesAreComplete: [MissingErrorCodes] extends [never] ? true : never = true;

const FieldIssue = z.object({
  field: z.string().describe('the bad field, dotted (`config.replicas`), or `body` / `query` as a whole'),
  message: z.string(),
});

/**
 * The body of every error answer (see errorBoundary in lambdas/http/api-handler.ts). It is
 * documentation of the wire shape: the handlers build the body from `ApiError` directly.
 */
export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z
        .union([z.array(FieldIssue), z.record(z.string(), z.unknown())])
        .optional()
        .describe('400: one entry per bad field; 404/409/413: facts about the conflict or limit'),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorResponse = z.infer<typeof ErrorResponse>;
