import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/api/routes';
import type { RouteSpec } from '../../lambdas/http/route';
import { createLocalAuthorizer } from '../../local/auth/authorizer';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../local/auth/keys';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, signToken, verifyToken } from '../../local/auth/tokens';
import { toProxyEvent } from '../../local/http/proxy-event';
import { createRouteTable } from '../../local/http/route-table';
import { type ApiHandler, closeServer, createApiServer, listen } from '../../local/http/server';

const routes = Object.values(ROUTES) as readonly RouteSpec[];
const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];

let directory: string;
let keys: SigningKeys;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'local-hardening-'));
  keys = await loadOrCreateSigningKeys(directory);
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('the proxy event builder', () => {
  const match = createRouteTable(routes).match('GET', '/api/v1/versions');
  if (match === undefined) throw new Error('no route');
  const build = (url: string, rawHeaders: string[]) =>
    toProxyEvent(
      {
        method: 'GET',
        url,
        rawHeaders,
        body: null,
        sourceIp: '127.0.0.1',
        requestId: 'r',
        receivedAt: new Date(0),
      },
      match,
      { sub: 's' },
    );

  it.each(PROTOTYPE_NAMES)('keeps a query parameter and a header named %s as plain entries', (name) => {
    const event = build(`/api/v1/versions?${encodeURIComponent(name)}=1&${encodeURIComponent(name)}=2`, [
      name,
      'a',
      name,
      'b',
    ]);
    expect(Object.hasOwn(event.queryStringParameters ?? {}, name)).toBe(true);
    expect(event.queryStringParameters?.[name]).toBe('2');
    expect(event.multiValueQueryStringParameters?.[name]).toEqual(['1', '2']);
    expect(event.headers[name]).toBe('b');
    expect(event.multiValueHeaders[name]).toEqual(['a', 'b']);
    expect(Object.getPrototypeOf(event.headers)).toBe(Object.prototype);
  });

  it('makes a well-formed event of any query and header names and values, and never throws', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const name = fc.oneof(text, fc.constantFrom(...PROTOTYPE_NAMES));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, text), { maxLength: 6 }),
        fc.array(fc.tuple(name, text), { maxLength: 6 }),
        // raw characters a request target may carry after the encoded pairs
        fc.string({ unit: fc.constantFrom(...'%&=?+;/[]`ab'), maxLength: 8 }),
        (query, headers, rawTail) => {
          const search = new URLSearchParams(query).toString();
          const event = build(`/api/v1/versions?${search}${rawTail}`, headers.flat());
          // what API Gateway sends is JSON: the event must survive a round trip unchanged
          expect(JSON.parse(JSON.stringify(event))).toEqual(event);
          for (const [headerName, value] of headers) {
            expect(event.headers[headerName]).toBe(
              headers.filter(([other]) => other === headerName).at(-1)?.[1],
            );
            expect(event.multiValueHeaders[headerName]).toContain(value);
          }
          const parameters = [...new URLSearchParams(`?${search}${rawTail}`)];
          if (parameters.length === 0) expect(event.queryStringParameters).toBeNull();
          for (const [parameter, value] of parameters) {
            expect(event.multiValueQueryStringParameters?.[parameter]).toContain(value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not throw on a request target the URL parser refuses', () => {
    expect(build('//[', []).path).toBe('//[');
  });
});

describe('the local server', () => {
  let server: Server;
  let port: number;
  let token: string;
  const seen: APIGatewayProxyEvent[] = [];
  const echo: ApiHandler = async (event) => {
    seen.push(event);
    return { statusCode: 200, body: JSON.stringify({ query: event.queryStringParameters }) };
  };

  beforeAll(async () => {
    token = await signToken(keys, { email: 'dev@example.com', groups: ['admins'] });
    server = createApiServer({
      routes,
      authorizer: createLocalAuthorizer(keys),
      handlers: () => echo,
      bodyTimeoutMs: 300,
    });
    port = await listen(server, 0, '127.0.0.1');
  });

  afterAll(async () => {
    await closeServer(server);
  });

  it.each(PROTOTYPE_NAMES)(
    'hands a request with a query and a header named %s to the handler',
    async (name) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/versions?${encodeURIComponent(name)}=1`, {
        headers: { authorization: `Bearer ${token}`, ...(name === '__proto__' ? {} : { [name]: 'x' }) },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ query: { [name]: '1' } });
    },
  );

  /** Sends the headers and part of the body on a raw socket, then nothing: answers what the server says. */
  const slowUpload = (sent: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        answer += chunk;
      });
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.write(
        `POST /api/v1/versions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n${sent}`,
      );
    });

  it('answers a body that does not arrive in time with 408 in the service’s error shape, and closes', async () => {
    const before = seen.length;
    const answer = await slowUpload('{"git_tag":');
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(body)).toEqual({
      error: { code: 'REQUEST_TIMEOUT', message: 'The request body did not arrive within 300 ms' },
    });
    expect(seen.length).toBe(before);
  });
});

describe('local token checks, as Cognito’s tokens are', () => {
  const now = Math.floor(Date.now() / 1000);
  const signed = (claims: { iat?: number; exp?: number }) => {
    const jwt = new SignJWT({ email: 'a@example.com', token_use: 'id' })
      .setProtectedHeader({ alg: 'RS256', kid: keys.keyId })
      .setSubject('s')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE);
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(keys.privateKey);
  };

  it('refuses a token issued in the future beyond the clock skew', async () => {
    const yearAhead = now + 365 * 24 * 3600;
    expect(await verifyToken(keys, await signed({ iat: yearAhead, exp: yearAhead + 3600 }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/iat/),
    });
    expect(await verifyToken(keys, await signed({ iat: now + 3600, exp: now + 7200 }))).toMatchObject({
      ok: false,
    });
    expect((await verifyToken(keys, await signed({ iat: now + 60, exp: now + 3600 }))).ok).toBe(true);
  });

  it('refuses a token that lives longer than 24 hours, and one without exp', async () => {
    expect(await verifyToken(keys, await signed({ iat: now, exp: now + 25 * 3600 }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/exp/),
    });
    expect(
      await verifyToken(keys, await signed({ iat: now - 3600, exp: now + 10 * 365 * 24 * 3600 })),
    ).toMatchObject({ ok: false });
    expect((await verifyToken(keys, await signed({ iat: now }))).ok).toBe(false);
    expect((await verifyToken(keys, await signed({ exp: now + 3600 }))).ok).toBe(false);
    expect((await verifyToken(keys, await signed({ iat: now, exp: now + 24 * 3600 }))).ok).toBe(true);
  });

  it('keeps taking the 12-hour tokens of `npm run token`, and will not sign a longer-lived one', async () => {
    expect((await verifyToken(keys, await signToken(keys, { email: 'a@example.com' }))).ok).toBe(true);
    await expect(signToken(keys, { email: 'a@example.com', ttlSeconds: 48 * 3600 })).rejects.toThrow(
      /24 hours/,
    );
  });
});
