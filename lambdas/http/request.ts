import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod';
import { ApiError, type FieldIssue, validationError } from './errors';

/** Largest JSON body accepted; API Gateway's own limit is far higher. */
export const MAX_BODY_BYTES = 128 * 1024;

/**
 * One issue per offending field: the wrong type when the value has one (zod goes on to check
 * the length of a string given for an array, which only confuses), else the first broken rule.
 */
export function issuesOf(error: z.ZodError, location: 'body' | 'query'): FieldIssue[] {
  const byField = new Map<string, z.core.$ZodIssue>();
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : location;
    const known = byField.get(field);
    if (known === undefined || (issue.code === 'invalid_type' && known.code !== 'invalid_type')) {
      byField.set(field, issue);
    }
  }
  return [...byField].map(([field, issue]) => ({ field, message: issue.message }));
}

export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) {
    throw new ApiError('PAYLOAD_TOO_LARGE', 413, `The request body exceeds ${MAX_BODY_BYTES} bytes`, {
      limit_bytes: MAX_BODY_BYTES,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw validationError('The request body is not valid JSON', [
      { field: 'body', message: 'Malformed JSON' },
    ]);
  }
  // `null`, a list or a scalar is valid JSON but no request: every body is an object
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw validationError('The request body must be a JSON object', [
      { field: 'body', message: 'A JSON object is required' },
    ]);
  }
  return parsed;
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw validationError(`Invalid request ${location}`, issuesOf(result.error, location));
  }
  return result.data;
}

/** Query strings arrive as strings (or lists of strings); the route's schema coerces them. */
export function queryOf(event: APIGatewayProxyEvent): Record<string, string> {
  // fromEntries defines own properties: `__proto__` or `constructor` stay parameters (and get a 400)
  return Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, value]],
    ),
  );
}
