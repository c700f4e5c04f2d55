import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context as LambdaContext } from 'aws-lambda';
import { observability } from '../observability/middleware';
import { assertAccess, callerFromEvent } from './auth';
import { toApiError } from './aws-faults';
import { allowedOriginsFrom, CORS_ORIGINS_VARIABLE, corsHeaders } from './cors';
import { ApiError } from './errors';
import { logger } from './logger';
import { parseJsonBody, parseWith, queryOf } from './request';
import type { ApiResource, RouteInput, RouteSpec } from './route';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

function errorResponse(error: ApiError): APIGatewayProxyResult {
  const payload: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.details !== undefined) payload.details = error.details;
  return jsonResponse(error.status, { error: payload });
}

type AnyImplementation = (input: RouteInput<RouteSpec>) => Promise<unknown>;

/**
 * Outermost middleware: an `ApiError` becomes its JSON answer; anything else is logged with
 * the request id and answered as a bare 500, so no stack trace or AWS error text leaks.
 */
export const errorBoundary = (): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    const original = request.error;
    const error = toApiError(original);
    if (error instanceof ApiError) {
      // A 503 or 500 tells the client nothing more: the log keeps the AWS fault behind it.
      if (error.status >= 500) {
        logger.error('request failed', {
          code: error.code,
          ...(original instanceof Error && original !== error ? { error: original } : {}),
        });
      }
      request.response = errorResponse(error);
      return;
    }
    logger.error('unexpected failure', { error: error instanceof Error ? error : String(error) });
    request.response = errorResponse(new ApiError('INTERNAL_ERROR', 500, 'An internal error occurred'));
  },
});

/**
 * Every log line of a request carries its request id and route. The keys are replaced when the
 * next request starts, not cleared when this one fails: the error boundary, which runs after
 * this middleware's error hook, logs the failure with them.
 */
const requestContextLogging = (): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: (request) => {
    logger.resetKeys();
    logger.appendKeys({
      request_id: request.event.requestContext?.requestId ?? request.context.awsRequestId,
      route: `${request.event.httpMethod} ${request.event.resource}`,
    });
  },
  after: (request) => {
    logger.info('request served', { status: request.response?.statusCode });
  },
});

/**
 * Builds the Lambda handler of one REST resource: it dispatches on method + resource path
 * among that resource's routes, checks the caller's role, validates input and output with
 * the route's zod schemas and calls the implementation.
 */
export function createApiHandler<Resource extends ApiResource>(
  resource: Resource,
  routes: Readonly<Record<string, RouteSpec>>,
  implementations: Readonly<Record<string, unknown>>,
) {
  const table = new Map<string, { route: RouteSpec; implementation: AnyImplementation }>();
  const paths = new Set<string>();
  for (const [operationId, route] of Object.entries(routes)) {
    if (route.resource !== resource) continue;
    const implementation = implementations[operationId];
    if (typeof implementation !== 'function') throw new Error(`no implementation for ${operationId}`);
    table.set(`${route.method} ${route.path}`, {
      route,
      implementation: implementation as AnyImplementation,
    });
    paths.add(route.path);
  }

  const dispatch = async (
    event: APIGatewayProxyEvent,
    context: LambdaContext,
  ): Promise<APIGatewayProxyResult> => {
    const entry = table.get(`${event.httpMethod} ${event.resource}`);
    if (!entry) {
      throw paths.has(event.resource)
        ? new ApiError('METHOD_NOT_ALLOWED', 405, `${event.httpMethod} is not allowed on ${event.resource}`)
        : new ApiError('NOT_FOUND', 404, `No route for ${event.httpMethod} ${event.path}`);
    }
    const { route, implementation } = entry;
    const caller = callerFromEvent(event);
    assertAccess(caller, route.access);
    const rawBody = route.body ? parseJsonBody(event) : undefined;
    const input: RouteInput<RouteSpec> = {
      caller,
      body: route.body ? parseWith(route.body, rawBody ?? {}, 'body') : undefined,
      query: route.query ? parseWith(route.query, queryOf(event), 'query') : undefined,
      params: Object.fromEntries(
        Object.entries(event.pathParameters ?? {}).flatMap(([name, value]) =>
          value === undefined ? [] : [[name, value]],
        ),
      ),
      requestId: event.requestContext?.requestId ?? context.awsRequestId,
    };
    const result = await implementation(input);
    return jsonResponse(route.successStatus, route.response.parse(result));
  };

  return (
    middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
      // First in, so that it runs last: after the error boundary has made its answer.
      .use(corsHeaders(allowedOriginsFrom(process.env[CORS_ORIGINS_VARIABLE])))
      .use(errorBoundary())
      .use(observability())
      .use(requestContextLogging())
      .handler(dispatch)
  );
}
