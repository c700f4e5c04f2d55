import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/api/routes';
import { MAX_BODY_BYTES } from '../../lambdas/http/request';
import type { ApiResource, RouteSpec } from '../../lambdas/http/route';
import { createLocalAuthorizer } from '../../local/auth/authorizer';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../local/auth/keys';
import { signToken } from '../../local/auth/tokens';
import { toProxyEvent } from '../../local/http/proxy-event';
import { createRouteTable } from '../../local/http/route-table';
import {
  type ApiHandler,
  closeServer,
  createApiServer,
  listen,
  PortInUseError,
} from '../../local/http/server';

const routes = Object.values(ROUTES) as readonly RouteSpec[];

describe('route table', () => {
  const table = createRouteTable(routes);

  it('matches every route of ROUTES on its own template', () => {
    for (const route of routes) {
      const concrete = route.path.replace(/\{[^}]+\}/g, 'x_1');
      expect(table.match(route.method, concrete)?.route).toBe(route);
    }
  });

  it('fills and decodes path parameters, null when there are none', () => {
    expect(table.match('GET', '/api/v1/versions/ver%5F1')).toMatchObject({
      route: ROUTES.getVersion,
      pathParameters: { id: 'ver_1' },
    });
    expect(table.match('POST', '/api/v1/deployments/dep_1/cancel')).toMatchObject({
      route: ROUTES.cancelDeployment,
      pathParameters: { id: 'dep_1' },
    });
    expect(table.match('GET', '/api/v1/versions')?.pathParameters).toBeNull();
    expect(table.match('GET', '/api/v1/versions/')?.route).toBe(ROUTES.listVersions);
  });

  it('knows no other paths and methods', () => {
    expect(table.match('GET', '/api/v1/nothing')).toBeUndefined();
    expect(table.match('GET', '/api/v1/versions/a/b')).toBeUndefined();
    expect(table.match('GET', '/api/v1/versions//')).toBeUndefined();
    expect(table.match('PATCH', '/api/v1/versions/ver_1')).toBeUndefined();
    expect(table.match('PUT', '/api/v1/versions/ver_1')).toBeUndefined();
    expect(table.match('GET', '/api/v1/versions/%E0%A4%A')).toBeUndefined();
  });
});

describe('proxy event', () => {
  it('has the shape API Gateway gives a REST proxy integration', () => {
    const match = createRouteTable(routes).match('GET', '/api/v1/tasks/task_1');
    if (!match) throw new Error('no match');
    const receivedAt = new Date('2024-10-24T10:00:00Z');
    const event = toProxyEvent(
      {
        method: 'GET',
        url: '/api/v1/tasks/task_1?status=failed&tag=a&tag=b',
        rawHeaders: ['Host', 'localhost:3000', 'X-Thing', '1', 'X-Thing', '2', 'Authorization', 'Bearer t'],
        body: null,
        sourceIp: '127.0.0.1',
        requestId: 'req-1',
        receivedAt,
      },
      match,
      { sub: 's', 'cognito:groups': 'admins' },
    );
    expect(event).toMatchObject({
      resource: '/api/v1/tasks/{id}',
      path: '/api/v1/tasks/task_1',
      httpMethod: 'GET',
      headers: { Host: 'localhost:3000', 'X-Thing': '2', Authorization: 'Bearer t' },
      multiValueHeaders: { 'X-Thing': ['1', '2'] },
      queryStringParameters: { status: 'failed', tag: 'b' },
      multiValueQueryStringParameters: { status: ['failed'], tag: ['a', 'b'] },
      pathParameters: { id: 'task_1' },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        stage: 'local',
        resourcePath: '/api/v1/tasks/{id}',
        httpMethod: 'GET',
        requestTimeEpoch: receivedAt.getTime(),
        requestTime: '24/Oct/2024:10:00:00 +0000',
        authorizer: { claims: { sub: 's', 'cognito:groups': 'admins' } },
        identity: { sourceIp: '127.0.0.1' },
      },
    });
  });
});

describe('API server', () => {
  let directory: string;
  let keys: SigningKeys;
  let server: Server;
  let base: string;
  let token: string;
  const seen: APIGatewayProxyEvent[] = [];
  const contexts: Context[] = [];

  const echo: ApiHandler = async (event, context) => {
    seen.push(event);
    contexts.push(context);
    if (event.path.endsWith('/boom')) throw new Error('secret internal detail');
    return {
      statusCode: event.httpMethod === 'POST' ? 201 : 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'X-Custom': 'yes' },
      body: JSON.stringify({ resource: event.resource, body: event.body }),
    };
  };
  let ready = true;
  const handlers = (resource: ApiResource): ApiHandler | undefined =>
    ready && resource !== 'tasks' ? echo : undefined;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-http-'));
    keys = await loadOrCreateSigningKeys(directory);
    token = await signToken(keys, { email: 'dev@example.com', groups: ['admins'] });
    const boomRoute: RouteSpec = { ...ROUTES.getVersion, path: '/api/v1/versions/{id}/boom' };
    server = createApiServer({
      routes: [...routes, boomRoute],
      authorizer: createLocalAuthorizer(keys),
      handlers,
    });
    const port = await listen(server, 0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await closeServer(server);
    await rm(directory, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit = {}, bearer: string | null = token) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
        'content-type': 'application/json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  it('calls the handler of the route with the proxy event and relays its answer', async () => {
    const response = await call('/api/v1/versions', { method: 'POST', body: '{"git_tag":"v1"}' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-custom')).toBe('yes');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({ resource: '/api/v1/versions', body: '{"git_tag":"v1"}' });
    const event = seen.at(-1);
    expect(event?.requestContext.authorizer?.claims).toMatchObject({
      email: 'dev@example.com',
      'cognito:groups': '[admins]',
    });
    expect(event?.requestContext.requestId).toBe(response.headers.get('x-amzn-requestid'));
    expect(contexts.at(-1)?.functionName).toBe('deploy-manager-local-versions');
    expect(contexts.at(-1)?.getRemainingTimeInMillis()).toBeGreaterThan(20_000);
  });

  it('answers 404 NOT_FOUND for unknown paths and methods, before checking the token', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nothing'],
      ['PATCH', '/api/v1/versions/ver_1'],
      ['GET', '/'],
    ] as const) {
      const response = await call(path, { method }, null);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { code: 'NOT_FOUND', message: `No route for ${method} ${path}` },
      });
    }
  });

  it('answers 401 UNAUTHORIZED itself for a missing, garbage or expired token', async () => {
    const expired = await signToken(keys, { email: 'a@example.com', issuedAt: 1_000_000, ttlSeconds: 60 });
    const before = seen.length;
    for (const bearer of [null, 'garbage', expired]) {
      const response = await call('/api/v1/versions', {}, bearer);
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAUTHORIZED');
    }
    expect(seen.length).toBe(before);
  });

  it('refuses a body above the handler limit with the handler’s 413, after the token check', async () => {
    const big = JSON.stringify({ description: 'x'.repeat(MAX_BODY_BYTES) });
    const response = await call('/api/v1/versions', { method: 'POST', body: big });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: `The request body exceeds ${MAX_BODY_BYTES} bytes`,
        details: { limit_bytes: MAX_BODY_BYTES },
      },
    });
    const anonymous = await call('/api/v1/versions', { method: 'POST', body: big }, null);
    expect(anonymous.status).toBe(401);
    const atLimit = JSON.stringify({ d: 'x'.repeat(MAX_BODY_BYTES - 8) });
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    expect((await call('/api/v1/versions', { method: 'POST', body: atLimit })).status).toBe(201);
  });

  it('answers 502 without the error text when a handler throws', async () => {
    const response = await call('/api/v1/versions/v1/boom');
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
  });

  it('answers 503 while a handler is not loaded yet', async () => {
    ready = false;
    try {
      const response = await call('/api/v1/versions');
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      ready = true;
    }
    expect((await call('/api/v1/tasks')).status).toBe(503);
  });

  it('reports a port in use as PortInUseError', async () => {
    const other = createApiServer({ routes, authorizer: createLocalAuthorizer(keys), handlers });
    const port = Number(new URL(base).port);
    await expect(listen(other, port, '127.0.0.1')).rejects.toBeInstanceOf(PortInUseError);
    await expect(listen(other, port, '127.0.0.1')).rejects.toThrow(/set PORT/);
  });
});
