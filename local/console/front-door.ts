import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type * as z from 'zod';
import {
  type ConsoleRuntimeConfig,
  LocalTokenRequest,
  type LocalTokenResponse,
} from '../../console/runtime-config';
import { consoleContentSecurityPolicy } from '../../lib/console-csp';
import type { SigningKeys } from '../auth/keys';
import { DEFAULT_TOKEN_TTL_SECONDS, signToken } from '../auth/tokens';
import { cacheControlOf, contentTypeOf, lookUpStaticFile, NO_CACHE } from './static-files';

export const LOCAL_TOKEN_PATH = '/local/token';
export const CONFIG_PATH = '/config.json';
const MAX_TOKEN_REQUEST_BYTES = 4096;

export interface ConsoleFrontDoorOptions {
  /** the console's build (`console/dist`); undefined: only `/config.json` and `/local/token` */
  readonly distDir: string | undefined;
  readonly keys: SigningKeys;
}

/** Answers a request that is not for `/api/…`; false: not the console's, let the API answer it. */
export type ConsoleFrontDoor = (
  request: IncomingMessage,
  response: ServerResponse,
  baseUrl: string,
) => Promise<boolean>;

/** The headers CloudFront's response headers policy adds in the stack (lib/console-hosting.ts). */
export function securityHeaders(baseUrl: string): Record<string, string> {
  return {
    'content-security-policy': consoleContentSecurityPolicy([baseUrl]),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };
}

export const localConsoleConfig = (baseUrl: string): ConsoleRuntimeConfig => ({
  api_url: `${baseUrl}/api/v1`,
  sign_in: { mode: 'local', token_url: LOCAL_TOKEN_PATH },
});

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  response.writeHead(status, { ...headers, 'content-length': String(bytes.byteLength) });
  response.end(response.req.method === 'HEAD' ? undefined : bytes);
}

const sendJson = (response: ServerResponse, status: number, headers: Record<string, string>, body: unknown) =>
  send(
    response,
    status,
    { ...headers, 'content-type': 'application/json; charset=utf-8' },
    JSON.stringify(body),
  );

const errorBody = (code: string, message: string, details?: Record<string, unknown>) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

async function readSmallBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function issueToken(
  request: IncomingMessage,
  response: ServerResponse,
  headers: Record<string, string>,
  keys: SigningKeys,
): Promise<void> {
  const body = await readSmallBody(request, MAX_TOKEN_REQUEST_BYTES);
  if (body === undefined) {
    sendJson(
      response,
      413,
      { ...headers, connection: 'close' },
      errorBody('PAYLOAD_TOO_LARGE', `The request body exceeds ${MAX_TOKEN_REQUEST_BYTES} bytes`),
    );
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    sendJson(response, 400, headers, errorBody('VALIDATION_ERROR', 'The request body is not JSON'));
    return;
  }
  const parsed = LocalTokenRequest.safeParse(json);
  if (!parsed.success) {
    sendJson(
      response,
      400,
      headers,
      errorBody('VALIDATION_ERROR', 'Expected {email, groups}', {
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      }),
    );
    return;
  }
  const issuedAt = Math.floor(Date.now() / 1000);
  const token = await signToken(keys, {
    email: parsed.data.email,
    groups: parsed.data.groups,
    issuedAt,
    ttlSeconds: DEFAULT_TOKEN_TTL_SECONDS,
  });
  const answer: z.infer<typeof LocalTokenResponse> = {
    token,
    expires_at: new Date((issuedAt + DEFAULT_TOKEN_TTL_SECONDS) * 1000).toISOString(),
  };
  sendJson(response, 200, { ...headers, 'cache-control': 'no-store' }, answer);
}

/**
 * The console beside the API on one port, as CloudFront serves it in the stack: the build's
 * static files with an SPA fallback, `/config.json` for this port, and the local token issuer
 * that stands in for Cognito's hosted UI.
 */
export function createConsoleFrontDoor(options: ConsoleFrontDoorOptions): ConsoleFrontDoor {
  return async (request, response, baseUrl) => {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const headers = securityHeaders(baseUrl);
    if (path === LOCAL_TOKEN_PATH) {
      if (method !== 'POST') {
        sendJson(response, 405, { ...headers, allow: 'POST' }, errorBody('METHOD_NOT_ALLOWED', 'Use POST'));
        return true;
      }
      await issueToken(request, response, headers, options.keys);
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (path === CONFIG_PATH) {
      sendJson(response, 200, { ...headers, 'cache-control': NO_CACHE }, localConsoleConfig(baseUrl));
      return true;
    }
    if (options.distDir === undefined) return false;
    const found = await lookUpStaticFile(options.distDir, path);
    if (found === undefined) return false;
    if (found.kind === 'refused') {
      sendJson(response, 400, headers, errorBody('VALIDATION_ERROR', 'Invalid path'));
      return true;
    }
    const file = found.kind === 'file' ? found : undefined;
    const absolutePath = file?.absolutePath ?? join(options.distDir, 'index.html');
    const relativePath = file?.relativePath ?? 'index.html';
    const content = await readFile(absolutePath).catch(() => undefined);
    if (content === undefined) return false;
    send(
      response,
      200,
      {
        ...headers,
        'content-type': contentTypeOf(absolutePath),
        'cache-control': cacheControlOf(relativePath),
      },
      content,
    );
    return true;
  };
}
