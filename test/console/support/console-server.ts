import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { LocalTokenRequest } from '../../../console/runtime-config';
import type { SigningKeys } from '../../../local/auth/keys';
import { signToken } from '../../../local/auth/tokens';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Stands in for the local runtime's console hosting while that is not merged: `console/dist`
 * at `/`, `/config.json` in local mode, the token issuer at `POST /local/token` (signing with
 * the runtime's keys) and `/api/v1` proxied to the runtime, all on one origin.
 */
export async function startConsoleServer(options: {
  readonly distDir: string;
  readonly apiBaseUrl: string;
  readonly keys: SigningKeys;
}): Promise<{ readonly url: string; readonly close: () => Promise<void> }> {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://console.local');
    if (url.pathname.startsWith('/api/v1')) {
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value);
      }
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
      const answer = await fetch(`${options.apiBaseUrl}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body: hasBody ? new Uint8Array(await bodyOf(request)) : undefined,
      });
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      response.end(Buffer.from(await answer.arrayBuffer()));
      return;
    }
    if (url.pathname === '/config.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ api_url: '/api/v1', sign_in: { mode: 'local', token_url: '/local/token' } }),
      );
      return;
    }
    if (url.pathname === '/local/token' && request.method === 'POST') {
      const parsed = LocalTokenRequest.safeParse(JSON.parse((await bodyOf(request)).toString() || '{}'));
      if (!parsed.success) {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'VALIDATION_ERROR', message: 'email is required' } }));
        return;
      }
      const ttlSeconds = 3600;
      const token = await signToken(options.keys, { ...parsed.data, ttlSeconds });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ token, expires_at: new Date(Date.now() + ttlSeconds * 1000).toISOString() }),
      );
      return;
    }
    const relative = normalize(url.pathname === '/' ? '/index.html' : url.pathname).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    try {
      const content = await readFile(join(options.distDir, relative));
      response.writeHead(200, { 'content-type': TYPES[extname(relative)] ?? 'application/octet-stream' });
      response.end(content);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
    }
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'the local runtime did not answer' } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
