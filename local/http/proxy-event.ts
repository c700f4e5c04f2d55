import type { APIGatewayEventIdentity, APIGatewayProxyEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from '../local-aws';
import type { RouteMatch } from './route-table';

export const LOCAL_STAGE = 'local';
export const LOCAL_API_ID = 'local';

/** What the server knows about one HTTP request once its body is read. */
export interface HttpRequestFacts {
  readonly method: string;
  /** the request target as sent: path and query string */
  readonly url: string;
  /** Node's `rawHeaders`: name, value, name, value…, with the client's casing */
  readonly rawHeaders: readonly string[];
  /** null: no body at all */
  readonly body: Buffer | null;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly receivedAt: Date;
}

/**
 * Name → last value and name → all values. Collected in Maps and turned into objects with
 * own properties only, so a name such as `__proto__`, `constructor` or `toString` is a name
 * like any other (as in API Gateway's JSON event), never a member of Object.prototype.
 */
function valueMaps(pairs: Iterable<readonly [string, string]>): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    single.set(name, value);
    const values = multi.get(name);
    if (values === undefined) multi.set(name, [value]);
    else values.push(value);
  }
  return { single: Object.fromEntries(single), multi: Object.fromEntries(multi) };
}

function* headerPairs(rawHeaders: readonly string[]): Generator<readonly [string, string]> {
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index];
    const value = rawHeaders[index + 1];
    // API Gateway keeps the client's casing and, for a repeated header, the last value.
    if (name !== undefined && value !== undefined) yield [name, value];
  }
}

function headersOf(rawHeaders: readonly string[]): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  return valueMaps(headerPairs(rawHeaders));
}

function queryOf(search: URLSearchParams): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const { single, multi } = valueMaps(search);
  const empty = Object.keys(single).length === 0;
  return { single: empty ? null : single, multi: empty ? null : multi };
}

export interface RequestTarget {
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/**
 * The path and query of a request target. Never throws: a target the URL parser refuses
 * (`//[`) is split at its first `?` as it stands, and then matches no route.
 */
export function parseRequestTarget(url: string): RequestTarget {
  try {
    const parsed = new URL(url, 'http://local.invalid');
    return { pathname: parsed.pathname, searchParams: parsed.searchParams };
  } catch {
    const question = url.indexOf('?');
    return question < 0
      ? { pathname: url, searchParams: new URLSearchParams() }
      : { pathname: url.slice(0, question), searchParams: new URLSearchParams(url.slice(question + 1)) };
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** `requestTime` in API Gateway's format: `24/Oct/2024:10:00:00 +0000`. */
function requestTimeOf(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function identityOf(sourceIp: string, userAgent: string | null): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}

/**
 * The Lambda proxy event a REST API (Cognito authorizer) hands the function of the matched
 * route. Bodies are passed as UTF-8 text, as API Gateway does without binary media types.
 */
export function toProxyEvent(
  request: HttpRequestFacts,
  match: RouteMatch,
  claims: Readonly<Record<string, string>>,
): APIGatewayProxyEvent {
  const url = parseRequestTarget(request.url);
  const headers = headersOf(request.rawHeaders);
  const query = queryOf(url.searchParams);
  const userAgent =
    Object.entries(headers.single).find(([name]) => name.toLowerCase() === 'user-agent')?.[1] ?? null;
  const host = Object.entries(headers.single).find(([name]) => name.toLowerCase() === 'host')?.[1];
  return {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: request.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: request.body === null || request.body.byteLength === 0 ? null : request.body.toString('utf8'),
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      authorizer: { claims: { ...claims } },
      ...(host === undefined ? {} : { domainName: host }),
      extendedRequestId: request.requestId,
      httpMethod: request.method,
      identity: identityOf(request.sourceIp, userAgent),
      path: `/${LOCAL_STAGE}${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId: request.requestId,
      requestTime: requestTimeOf(request.receivedAt),
      requestTimeEpoch: request.receivedAt.getTime(),
      resourceId: match.route.operationId,
      resourcePath: match.route.path,
      stage: LOCAL_STAGE,
    },
  };
}
