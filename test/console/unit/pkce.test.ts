import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizeUrl, challengeOf, createVerifier, tokenRequestBody } from '../../../console/src/auth/pkce';
import { claimsOf, denialOf } from '../../../console/src/auth/roles';

const UI = {
  domain: 'https://team.auth.eu-west-1.amazoncognito.com',
  client_id: 'client123',
  redirect_uri: 'https://console.example.com/',
  scopes: ['openid', 'email'],
};

describe('PKCE for the Cognito hosted UI', () => {
  it('makes a verifier of RFC 7636 characters and length, different each time', () => {
    const verifier = createVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createVerifier()).not.toBe(verifier);
  });

  it('derives the S256 challenge: base64url of the SHA-256 of the verifier (RFC 7636 appendix B)', async () => {
    expect(await challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    const verifier = createVerifier();
    expect(await challengeOf(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });

  it('sends the user to the hosted UI with the code flow, the challenge and the state', () => {
    const url = new URL(authorizeUrl(UI, 'challenge-1', 'state-1'));
    expect(url.origin + url.pathname).toBe(`${UI.domain}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client123',
      redirect_uri: 'https://console.example.com/',
      scope: 'openid email',
      state: 'state-1',
      code_challenge_method: 'S256',
      code_challenge: 'challenge-1',
    });
  });

  it('exchanges the code with the verifier', () => {
    expect(Object.fromEntries(tokenRequestBody(UI, 'code-1', 'verifier-1'))).toEqual({
      grant_type: 'authorization_code',
      client_id: 'client123',
      redirect_uri: 'https://console.example.com/',
      code: 'code-1',
      code_verifier: 'verifier-1',
    });
  });
});

describe('roles from the token', () => {
  const token = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

  it('reads e-mail and groups from the ID token', () => {
    expect(claimsOf(token({ email: 'ana@example.com', 'cognito:groups': ['deployers'], exp: 5 }))).toEqual({
      email: 'ana@example.com',
      groups: ['deployers'],
      exp: 5,
    });
    expect(claimsOf('not-a-token')).toBeUndefined();
  });

  it('says why an action is not allowed, as the API decides', () => {
    expect(denialOf([], 'read')).toBeUndefined();
    expect(denialOf([], 'deploy')).toBe('Needs the deployers or admins role');
    expect(denialOf(['deployers'], 'deploy')).toBeUndefined();
    expect(denialOf(['deployers'], 'admin')).toBe('Needs the admins role');
    expect(denialOf(['admins'], 'admin')).toBeUndefined();
    expect(denialOf(['admins'], 'deploy')).toBeUndefined();
  });
});
