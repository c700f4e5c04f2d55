import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  challengeOf,
  createVerifier,
  exchangeCode,
  listenForRedirect,
  refreshWithDomain,
} from '../../../cli/auth/pkce';
import { EXIT } from '../../../cli/exit-codes';

/** A small stand-in of the pool domain's /oauth2/token: it checks the PKCE verifier as Cognito does. */
let server: Server;
let domain = '';
const issued = new Map<string, string>(); // code → challenge
const forms: URLSearchParams[] = [];

const bodyOf = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const form = new URLSearchParams(await bodyOf(request));
    forms.push(form);
    const reply = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (
      request.url !== '/oauth2/token' ||
      request.headers['content-type'] !== 'application/x-www-form-urlencoded'
    )
      return reply(400, { error: 'invalid_request' });
    if (form.get('grant_type') === 'refresh_token')
      return form.get('refresh_token') === 'refresh-1'
        ? reply(200, { id_token: 'id-2' })
        : reply(400, { error: 'invalid_grant' });
    const challenge = issued.get(form.get('code') ?? '');
    if (challenge === undefined || challengeOf(form.get('code_verifier') ?? '') !== challenge)
      return reply(400, { error: 'invalid_grant' });
    return reply(200, { id_token: 'id-1', refresh_token: 'refresh-1', access_token: 'a', expires_in: 3600 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  domain = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

describe('PKCE', () => {
  it('derives the S256 challenge: base64url(SHA-256(verifier)), unpadded', () => {
    // SHA-256("abc") is FIPS 180-2's test vector ba7816bf…f20015ad.
    expect(challengeOf('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    const verifier = createVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createVerifier()).not.toBe(verifier);
  });

  it("builds the hosted sign-in's authorize URL", () => {
    const url = new URL(
      authorizeUrl({
        domain: 'auth.example.com',
        clientId: 'client',
        redirectUri: 'http://127.0.0.1:8976/callback',
        challenge: 'c',
        state: 's',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://auth.example.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client',
      redirect_uri: 'http://127.0.0.1:8976/callback',
      code_challenge: 'c',
      code_challenge_method: 'S256',
      state: 's',
      scope: 'openid email profile',
    });
  });

  it('receives the code on the loopback redirect and exchanges it with the verifier', async () => {
    const verifier = createVerifier();
    const redirect = await listenForRedirect('state-1');
    try {
      // The browser comes back: first with a wrong state (refused), then the real answer.
      const forged = await fetch(`${redirect.redirectUri}?code=evil&state=other`);
      expect(forged.status).toBe(400);
      issued.set('code-1', challengeOf(verifier));
      const back = await fetch(`${redirect.redirectUri}?code=code-1&state=state-1`);
      expect(await back.text()).toContain('Signed in to deployctl');
      const code = await redirect.code;
      expect(code).toBe('code-1');
      const tokens = await exchangeCode({
        domain,
        clientId: 'client',
        code,
        redirectUri: redirect.redirectUri,
        verifier,
      });
      expect(tokens).toEqual({ id_token: 'id-1', refresh_token: 'refresh-1' });
      expect(Object.fromEntries(forms.at(-1) ?? [])).toMatchObject({
        grant_type: 'authorization_code',
        client_id: 'client',
        redirect_uri: redirect.redirectUri,
      });
    } finally {
      redirect.close();
    }
  });

  it('a wrong verifier is refused as a sign-in failure (exit 5)', async () => {
    issued.set('code-2', challengeOf(createVerifier()));
    await expect(
      exchangeCode({
        domain,
        clientId: 'client',
        code: 'code-2',
        redirectUri: 'http://127.0.0.1/callback',
        verifier: createVerifier(),
      }),
    ).rejects.toMatchObject({
      exitCode: EXIT.notSignedIn,
      message: 'the token endpoint refused: invalid_grant',
    });
  });

  it('refreshes with the refresh token', async () => {
    expect(await refreshWithDomain(domain, 'client', 'refresh-1')).toEqual({ id_token: 'id-2' });
    await expect(refreshWithDomain(domain, 'client', 'stale')).rejects.toMatchObject({
      exitCode: EXIT.notSignedIn,
    });
  });
});
