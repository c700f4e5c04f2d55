import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** The environment variable that carries the stack's `corsOrigins` (comma-separated) to the functions. */
export const CORS_ORIGINS_VARIABLE = 'CORS_ORIGINS';

export function allowedOriginsFrom(value: string | undefined): readonly string[] {
  return (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}

function originOf(event: APIGatewayProxyEvent): string | undefined {
  const headers = event.headers ?? {};
  const name = Object.keys(headers).find((header) => header.toLowerCase() === 'origin');
  return name === undefined ? undefined : headers[name];
}

/**
 * Lets the browser origins the stack allows read every answer, errors included. API Gateway
 * answers the preflights itself; the answers of a proxy integration are the function's, so
 * their CORS headers must come from here. An origin not in the list gets no header at all.
 */
export function corsHeaders(
  allowedOrigins: readonly string[],
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const addHeaders = (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>) => {
    const origin = originOf(request.event);
    const response = request.response;
    if (response === null || response === undefined || origin === undefined) return;
    if (!allowedOrigins.includes(origin)) return;
    response.headers = { ...response.headers, 'access-control-allow-origin': origin, vary: 'Origin' };
  };
  return { after: addHeaders, onError: addHeaders };
}
