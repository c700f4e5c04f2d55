import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ErrorCode } from '../../lambdas/http/errors';
import { MAX_BODY_BYTES } from '../../lambdas/http/request';
import type { ApiResource, RouteSpec } from '../../lambdas/http/route';
import type { Authorizer } from '../auth/authorizer';
import type { ConsoleFrontDoor } from '../console/front-door';
import { INTEGRATION_TIMEOUT_MS, lambdaContextFor } from './lambda-context';
import { parseRequestTarget, toProxyEvent } from './proxy-event';
import { createRouteTable } from './route-table';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** undefined while the stack is still starting: the server answers 503. */
export type HandlerLookup = (resource: ApiResource) => ApiHandler | undefined;

export interface AccessLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly requestId: string;
}

export interface ApiServerOptions {
  readonly routes: readonly RouteSpec[];
  readonly authorizer: Authorizer;
  readonly handlers: HandlerLookup;
  /** bodies above this get the handler's own 413 answer; default: the handler's limit */
  readonly maxBodyBytes?: number;
  readonly integrationTimeoutMs?: number;
  /** how long a request's body may take to arrive once its headers have; default: Node's headers timeout */
  readonly bodyTimeoutMs?: number;
  readonly onRequest?: (entry: AccessLogEntry) => void;
  /** the web console at `/` (local/console/front-door.ts); paths under `/api/` never reach it */
  readonly console?: ConsoleFrontDoor;
}

/** API Gateway's own payload limit: a body beyond it is refused without reading on. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Node's default `headersTimeout`: the time a client has to send its headers, and here its body too. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;

class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode | 'REQUEST_TIMEOUT',
    readonly status: number,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

interface ReadBody {
  /** null: no body */
  readonly body: Buffer | null;
  /** more than `limit` bytes arrived; only the first `limit` are kept */
  readonly tooLarge: boolean;
}

/**
 * Reads the body, keeping at most `limit` bytes; the rest is drained so the answer can
 * still follow the gateway's order of checks (route, then token, then size).
 */
function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A deadline for the whole body, not an idle timer: a byte now and then must not keep it open.
    const timer = setTimeout(() => {
      request.pause();
      reject(
        new GatewayError('REQUEST_TIMEOUT', 408, `The request body did not arrive within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    request.once('close', () => clearTimeout(timer));
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > GATEWAY_MAX_BODY_BYTES) {
        request.pause();
        reject(payloadTooLarge(limit));
        return;
      }
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => {
      clearTimeout(timer);
      resolve({ body: size === 0 ? null : Buffer.concat(chunks), tooLarge: size > limit });
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

// The handler's own wording (lambdas/http/request.ts), so the answer is the same whichever layer sends it.
const payloadTooLarge = (limit: number) =>
  new GatewayError('PAYLOAD_TOO_LARGE', 413, `The request body exceeds ${limit} bytes`, {
    limit_bytes: limit,
  });

function writeJson(
  response: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...extraHeaders,
  });
  response.end(text);
}

function writeGatewayError(response: ServerResponse, requestId: string, error: GatewayError): void {
  const payload: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.details !== undefined) payload.details = error.details;
  // A refused oversized or slow upload may still be streaming: close rather than read it all.
  const close: Record<string, string> =
    error.status === 413 || error.status === 408 ? { connection: 'close' } : {};
  writeJson(response, error.status, requestId, { error: payload }, close);
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.statusCode === 'number' &&
    Number.isInteger(candidate.statusCode) &&
    candidate.statusCode >= 100 &&
    candidate.statusCode <= 599 &&
    (candidate.body === undefined || typeof candidate.body === 'string')
  );
}

/** The Lambda's proxy answer as HTTP, as API Gateway relays it. */
function writeProxyResult(response: ServerResponse, requestId: string, result: APIGatewayProxyResult): void {
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name.toLowerCase()] = values.map(String);
  }
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  headers['content-length'] = String(body.byteLength);
  headers['x-amzn-requestid'] = requestId;
  response.writeHead(result.statusCode, headers);
  response.end(body);
}

async function invokeWithTimeout(
  handler: ApiHandler,
  event: APIGatewayProxyEvent,
  context: Context,
  timeoutMs: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError('SERVICE_UNAVAILABLE', 504, 'Endpoint request timed out')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([handler(event, context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The REST API's front door, locally: route matching on the shared route list, the Cognito
 * authorizer, the body limit, then the resource's Lambda handler called with the proxy event
 * API Gateway would build. Errors the gateway itself would answer use the service's error
 * shape, as the stack's gateway responses do (lib/api.ts).
 */
export function createApiServer(options: ApiServerOptions): Server {
  const table = createRouteTable(options.routes);
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;

  const serve = async (request: IncomingMessage, response: ServerResponse, requestId: string) => {
    const receivedAt = new Date();
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    const read = await readBody(request, maxBodyBytes, bodyTimeoutMs);
    const path = parseRequestTarget(url).pathname;
    const match = table.match(method, path);
    if (match === undefined) throw new GatewayError('NOT_FOUND', 404, `No route for ${method} ${path}`);
    const authorization = await options.authorizer(request.headers.authorization);
    if (!authorization.ok) throw new GatewayError('UNAUTHORIZED', 401, authorization.reason);
    if (read.tooLarge) throw payloadTooLarge(maxBodyBytes);
    const handler = options.handlers(match.route.resource);
    if (handler === undefined) {
      throw new GatewayError('SERVICE_UNAVAILABLE', 503, 'The local stack is still starting; retry shortly');
    }
    const event = toProxyEvent(
      {
        method,
        url,
        rawHeaders: request.rawHeaders,
        body: read.body,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        requestId,
        receivedAt,
      },
      match,
      authorization.claims,
    );
    let result: unknown;
    try {
      result = await invokeWithTimeout(
        handler,
        event,
        lambdaContextFor(match.route.resource, requestId, receivedAt.getTime()),
        timeoutMs,
      );
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      // A function that throws is a 502 on API Gateway; the text stays in the local log.
      process.stderr.write(`handler ${match.route.resource} failed: ${String(error)}\n`);
      throw new GatewayError('INTERNAL_ERROR', 502, 'Internal server error');
    }
    if (!isProxyResult(result)) throw new GatewayError('INTERNAL_ERROR', 502, 'Internal server error');
    writeProxyResult(response, requestId, result);
  };

  const isApiPath = (url: string) => url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
  /** The origin the browser reaches this server at, as the banner prints it. */
  const baseUrl = () => {
    const address = server.address() as AddressInfo;
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  };
  const route = async (request: IncomingMessage, response: ServerResponse, requestId: string) => {
    const frontDoor = options.console;
    if (frontDoor !== undefined && !isApiPath(request.url ?? '/')) {
      if (await frontDoor(request, response, baseUrl())) return;
    }
    await serve(request, response, requestId);
  };

  const server = createServer((request, response) => {
    const requestId = randomUUID();
    const started = performance.now();
    response.on('finish', () => {
      options.onRequest?.({
        method: request.method ?? 'GET',
        path: (request.url ?? '/').split('?')[0] ?? '/',
        status: response.statusCode,
        durationMs: performance.now() - started,
        requestId,
      });
    });
    route(request, response, requestId).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (!(error instanceof GatewayError)) {
        // the client gets a bare 500; the cause stays in the local log
        process.stderr.write(`request ${requestId} failed before its handler: ${String(error)}\n`);
      }
      const gatewayError =
        error instanceof GatewayError
          ? error
          : new GatewayError('INTERNAL_ERROR', 500, 'Internal server error');
      writeGatewayError(response, requestId, gatewayError);
    });
  });
  return server;
}

/** A listen() on a port some other program holds; start.ts turns it into a one-line hint. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} is already in use; set PORT to a free port (e.g. PORT=3001 npm start)`);
  }
}

/** Listens and resolves with the bound port; EADDRINUSE becomes a PortInUseError. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, ends idle keep-alive connections and waits for the rest. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
    // Requests still running (a long poll, a slow handler) get a moment, then are cut.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}
