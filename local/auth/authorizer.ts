import type { SigningKeys } from './keys';
import { apiGatewayClaims, verifyToken } from './tokens';

export type AuthorizerResult =
  | { readonly ok: true; readonly claims: Record<string, string> }
  | { readonly ok: false; readonly reason: string };

export type Authorizer = (authorization: string | undefined) => Promise<AuthorizerResult>;

/** `Bearer <jwt>`, or the bare token, which API Gateway's Cognito authorizer accepts too. */
export function tokenFromHeader(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const value = authorization.trim();
  if (value.length === 0) return undefined;
  const bearer = /^bearer\s+(\S+)$/i.exec(value);
  if (bearer) return bearer[1];
  return /\s/.test(value) ? undefined : value;
}

/**
 * The Cognito user pool authorizer of the REST API, locally: it runs before any handler,
 * answers 401 by itself, and on success passes the token's claims as API Gateway does.
 */
export function createLocalAuthorizer(keys: SigningKeys): Authorizer {
  return async (authorization) => {
    const token = tokenFromHeader(authorization);
    if (token === undefined)
      return { ok: false, reason: 'A bearer token is required (Authorization header)' };
    const verdict = await verifyToken(keys, token);
    if (!verdict.ok) return verdict;
    return { ok: true, claims: apiGatewayClaims(verdict.payload) };
  };
}
