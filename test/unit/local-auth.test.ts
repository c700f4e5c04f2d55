import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFromEvent } from '../../lambdas/http/auth';
import { createLocalAuthorizer, tokenFromHeader } from '../../local/auth/authorizer';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../local/auth/keys';
import {
  apiGatewayClaims,
  javaDateString,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  signToken,
  subjectFor,
  verifyToken,
} from '../../local/auth/tokens';
import { apiEvent } from '../support/api-events';

let directory: string;
let keys: SigningKeys;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'local-keys-'));
  keys = await loadOrCreateSigningKeys(join(directory, 'keys'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('signing keys', () => {
  it('creates the pair once, private key readable by the owner only, and reuses it', async () => {
    const again = await loadOrCreateSigningKeys(join(directory, 'keys'));
    expect(again.keyId).toBe(keys.keyId);
    const info = await stat(join(directory, 'keys', 'jwt-signing-key.pem'));
    expect(info.mode & 0o077).toBe(0);
    expect(await readFile(join(directory, 'keys', 'jwt-signing-key.pub.pem'), 'utf8')).toContain(
      'BEGIN PUBLIC KEY',
    );
  });

  it('gives concurrent first starts one and the same key', async () => {
    const fresh = join(directory, 'race');
    const loaded = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateSigningKeys(fresh)));
    expect(new Set(loaded.map((key) => key.keyId)).size).toBe(1);
  });
});

describe('tokens', () => {
  it('signs an RS256 ID token with the local issuer, audience, 12 h expiry and the groups', async () => {
    const token = await signToken(keys, { email: 'dev@example.com', groups: ['admins', 'deployers'] });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: keys.keyId });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
      sub: subjectFor('dev@example.com'),
      email: 'dev@example.com',
      'cognito:groups': ['admins', 'deployers'],
      token_use: 'id',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(12 * 3600);
    expect((await verifyToken(keys, token)).ok).toBe(true);
  });

  it('leaves the group claim out when there are no groups', async () => {
    const claims = decodeJwt(await signToken(keys, { email: 'reader@example.com' }));
    expect(claims).not.toHaveProperty('cognito:groups');
  });

  it('refuses expired, foreign, tampered and unsigned tokens', async () => {
    const expired = await signToken(keys, {
      email: 'a@example.com',
      issuedAt: Math.floor(Date.now() / 1000) - 7200,
      ttlSeconds: 60,
    });
    expect(await verifyToken(keys, expired)).toEqual({ ok: false, reason: 'The token has expired' });

    const other = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ email: 'a@example.com' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('x')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(other.privateKey);
    expect((await verifyToken(keys, foreign)).ok).toBe(false);

    const wrongAudience = await new SignJWT({ email: 'a@example.com' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('x')
      .setIssuer(LOCAL_ISSUER)
      .setAudience('someone-else')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(keys.privateKey);
    expect(await verifyToken(keys, wrongAudience)).toEqual({
      ok: false,
      reason: "The token's aud claim is not accepted",
    });

    const valid = await signToken(keys, { email: 'a@example.com', groups: ['deployers'] });
    const [header, payload, signature] = valid.split('.');
    const elevated = Buffer.from(
      JSON.stringify({ ...decodeJwt(valid), 'cognito:groups': ['admins'] }),
    ).toString('base64url');
    expect((await verifyToken(keys, `${header}.${elevated}.${signature}`)).ok).toBe(false);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect((await verifyToken(keys, none)).ok).toBe(false);
    expect((await verifyToken(keys, 'garbage')).ok).toBe(false);
  });
});

describe('claims as API Gateway passes them', () => {
  it('renders every claim as a string, lists as `[a b]` and exp/iat as Java dates', () => {
    const claims = apiGatewayClaims({
      sub: 's',
      'cognito:groups': ['admins', 'deployers'],
      email_verified: true,
      exp: 1_680_633_579,
      iat: 1_680_629_979,
      auth_time: 1_680_629_979,
    });
    expect(claims).toEqual({
      sub: 's',
      'cognito:groups': '[admins deployers]',
      email_verified: 'true',
      exp: 'Tue Apr 04 18:39:39 UTC 2023',
      iat: 'Tue Apr 04 17:39:39 UTC 2023',
      auth_time: '1680629979',
    });
    expect(javaDateString(0)).toBe('Thu Jan 01 00:00:00 UTC 1970');
  });

  it('gives the handlers a caller with the roles of the token', async () => {
    const authorize = createLocalAuthorizer(keys);
    const token = await signToken(keys, { email: 'dev@example.com', groups: ['admins', 'deployers'] });
    const result = await authorize(`Bearer ${token}`);
    if (!result.ok) throw new Error(result.reason);
    const caller = callerFromEvent(
      apiEvent({ method: 'GET', path: '/api/v1/versions', claims: result.claims }),
    );
    expect(caller).toEqual({
      sub: subjectFor('dev@example.com'),
      email: 'dev@example.com',
      groups: ['admins', 'deployers'],
    });
  });

  it('reads the token from a Bearer header or a bare one, and refuses anything else', async () => {
    expect(tokenFromHeader('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromHeader('bearer   abc')).toBe('abc');
    expect(tokenFromHeader('abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromHeader('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(tokenFromHeader('')).toBeUndefined();
    expect(tokenFromHeader(undefined)).toBeUndefined();
    const authorize = createLocalAuthorizer(keys);
    expect(await authorize(undefined)).toMatchObject({ ok: false });
    expect(await authorize('Bearer nonsense')).toMatchObject({ ok: false });
  });
});
