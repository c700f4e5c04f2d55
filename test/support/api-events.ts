import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ROUTES } from '../../lambdas/api/routes';
import { asFunctionServing, refusedCalls } from './function-grants';

export const ADMIN = { sub: 'sub-admin', email: 'admin@example.com', 'cognito:groups': 'admins' };
export const DEPLOYER = { sub: 'sub-deployer', email: 'deployer@example.com', 'cognito:groups': 'deployers' };
export const READER = { sub: 'sub-reader', email: 'reader@example.com' };

export type Claims = Record<string, string>;

export interface ApiCall {
  readonly method: string;
  /** a concrete path, e.g. /api/v1/versions/ver_1 */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** raw body text, to send malformed JSON */
  readonly rawBody?: string;
  /** null: no authorizer claims at all */
  readonly claims?: Claims | null;
}

/** Finds the API Gateway resource template (`/api/v1/versions/{id}`) a concrete path matches. */
export function matchResource(path: string): {
  resource: string;
  pathParameters: Record<string, string> | null;
} {
  const segments = path.split('/');
  for (const route of Object.values(ROUTES)) {
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    const matches = template.every((part, index) => {
      const actual = segments[index] ?? '';
      if (part.startsWith('{') && part.endsWith('}')) {
        parameters[part.slice(1, -1)] = decodeURIComponent(actual);
        return actual.length > 0;
      }
      return part === actual;
    });
    if (matches) {
      return { resource: route.path, pathParameters: Object.keys(parameters).length > 0 ? parameters : null };
    }
  }
  return { resource: path, pathParameters: null };
}

/** The proxy event API Gateway (REST, Cognito authorizer) hands the Lambda. */
export function apiEvent(call: ApiCall): APIGatewayProxyEvent {
  const { resource, pathParameters } = matchResource(call.path);
  const claims = call.claims === undefined ? ADMIN : call.claims;
  const body = call.rawBody ?? (call.body === undefined ? null : JSON.stringify(call.body));
  return {
    resource,
    path: call.path,
    httpMethod: call.method,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: claims === null ? null : { claims },
      protocol: 'HTTP/1.1',
      httpMethod: call.method,
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: call.path,
      stage: 'test',
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'test',
      resourcePath: resource,
    },
  };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '256',
  awsRequestId: 'aws-request-id',
  logGroupName: 'test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiAnswer {
  readonly status: number;
  /** the parsed JSON answer; tests parse it with the domain schemas to read it typed */
  readonly body: Record<string, unknown>;
}

/**
 * Calls a handler the way API Gateway would and parses its JSON answer. The handler runs with
 * its function's IAM grants enforced on the test clients (see function-grants.ts): a call it
 * is not granted fails the test, naming the action.
 */
export async function callApi(handler: ApiHandler, call: ApiCall): Promise<ApiAnswer> {
  const event = apiEvent(call);
  const refusedBefore = refusedCalls.length;
  const result = await asFunctionServing(event.resource, () => handler(event, lambdaContext));
  const refused = refusedCalls.slice(refusedBefore);
  if (refused.length > 0) throw new Error(`${call.method} ${call.path}: ${refused.join('; ')}`);
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : {} };
}
