import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleRuntimeConfig, LocalTokenResponse } from '../../console/runtime-config';
import { ROUTES } from '../../lambdas/api/routes';
import { callerFromEvent } from '../../lambdas/http/auth';
import type { RouteSpec } from '../../lambdas/http/route';
import { createLocalAuthorizer } from '../../local/auth/authorizer';
import { loadOrCreateSigningKeys } from '../../local/auth/keys';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../../local/auth/tokens';
import { createConsoleFrontDoor } from '../../local/console/front-door';
import { type ApiHandler, closeServer, createApiServer, listen } from '../../local/http/server';

const INDEX = '<!doctype html><title>console</title><div id="root"></div>';
const SCRIPT = 'console.log("app")';

let directory: string;
let server: Server;
let baseUrl: string;

/** The handler answers with the caller the API's own auth code reads from the token's claims. */
const whoAmI: ApiHandler = async (event) => ({
  statusCode: 200,
  body: JSON.stringify(callerFromEvent(event)),
});

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'local-console-'));
  const dist = join(directory, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), INDEX);
  await writeFile(join(dist, 'assets', 'index-abc123.js'), SCRIPT);
  await writeFile(join(dist, 'assets', 'index-abc123.css'), 'body{margin:0}');
  await writeFile(join(directory, 'secret.txt'), 'outside the build');
  const keys = await loadOrCreateSigningKeys(join(directory, 'keys'));
  server = createApiServer({
    routes: Object.values(ROUTES) as readonly RouteSpec[],
    authorizer: createLocalAuthorizer(keys),
    handlers: () => whoAmI,
    console: createConsoleFrontDoor({ distDir: dist, keys }),
  });
  const port = await listen(server, 0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await closeServer(server);
  await rm(directory, { recursive: true, force: true });
});

/** A request with the path sent as it is (fetch would normalise `..` away). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}/`, { path, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the console at / of npm start', () => {
  it('serves index.html at / and for unknown page paths (SPA fallback), never cached', async () => {
    for (const path of ['/', '/deployments/dep_1', '/environments/prod/history']) {
      const response = await fetch(`${baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control'), path).toBe('no-cache');
      expect(await response.text(), path).toBe(INDEX);
    }
  });

  it('serves hashed assets with their type, cached for good', async () => {
    const script = await fetch(`${baseUrl}/assets/index-abc123.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe(SCRIPT);
    const style = await fetch(`${baseUrl}/assets/index-abc123.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404, not the page, for a missing asset', async () => {
    const response = await fetch(`${baseUrl}/assets/index-gone.js`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<title>console</title>');
  });

  it('refuses paths that leave the build folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
    ]) {
      const response = await rawGet(path);
      expect(response.body, path).not.toContain('outside the build');
      expect([400, 404], path).toContain(response.status);
    }
  });

  it("sends CloudFront's security headers, the CSP allowing only itself and the API", async () => {
    const response = await fetch(`${baseUrl}/`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${baseUrl}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
  });

  it('serves /config.json for this port, in the shape the console parses', async () => {
    const response = await fetch(`${baseUrl}/config.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const config = ConsoleRuntimeConfig.parse(await response.json());
    expect(config).toEqual({
      api_url: `${baseUrl}/api/v1`,
      sign_in: { mode: 'local', token_url: '/local/token' },
    });
  });
});

describe('POST /local/token', () => {
  it('mints a token the local API accepts, with the e-mail and groups asked for', async () => {
    const before = Date.now();
    const response = await fetch(`${baseUrl}/local/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'dana@example.com', groups: ['deployers'] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const minted = LocalTokenResponse.parse(await response.json());
    const lifetimeMs = Date.parse(minted.expires_at) - before;
    expect(lifetimeMs).toBeGreaterThan(0);
    expect(lifetimeMs).toBeLessThanOrEqual(MAX_TOKEN_LIFETIME_SECONDS * 1000);
    const api = await fetch(`${baseUrl}/api/v1/versions`, {
      headers: { authorization: `Bearer ${minted.token}` },
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ email: 'dana@example.com', groups: ['deployers'] });
  });

  it('refuses a request that is not {email, groups}', async () => {
    for (const body of ['{"email":"not-an-address"}', 'not json', '{"email":"a@b.c","groups":"admins"}']) {
      const response = await fetch(`${baseUrl}/local/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status, body).toBe(400);
      expect(await response.json(), body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    }
    expect((await fetch(`${baseUrl}/local/token`)).status).toBe(405);
  });
});

describe('the API beside the console', () => {
  it('keeps its own answers: 401 without a token, 404 JSON for an unknown API path', async () => {
    const unauthorized = await fetch(`${baseUrl}/api/v1/versions`);
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const unknown = await fetch(`${baseUrl}/api/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/json');
    expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
