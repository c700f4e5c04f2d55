import { createHash, randomUUID } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { SIGNING_ALGORITHM, type SigningKeys } from './keys';

/** Fixed values of the local Cognito stand-in; a token of a real user pool never verifies here. */
export const LOCAL_ISSUER = 'https://cognito-idp.local/deploy-manager-local';
export const LOCAL_AUDIENCE = 'deploy-manager-local';

export const DEFAULT_TOKEN_TTL_SECONDS = 12 * 60 * 60;

/** Cognito's longest ID-token lifetime (1 day); a longer-lived token is refused. */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** How far ahead of this machine's clock a token's `iat` may be (the issuer's clock may run fast). */
export const CLOCK_SKEW_SECONDS = 5 * 60;

export interface TokenRequest {
  readonly email: string;
  /** none or empty: the token carries no `cognito:groups` claim (a reader) */
  readonly groups?: readonly string[];
  /** defaults to a stable UUID derived from the e-mail, so a person keeps one `sub` */
  readonly sub?: string;
  readonly ttlSeconds?: number;
  /** for tests: the issue time in epoch seconds */
  readonly issuedAt?: number;
}

/** A UUID-shaped `sub` that is the same every time for the same e-mail, like a Cognito user's. */
export function subjectFor(email: string): string {
  const hex = createHash('sha256').update(`deploy-manager-local:${email.toLowerCase()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An ID token shaped like a Cognito user pool's (the claims API Gateway's authorizer forwards). */
export async function signToken(keys: SigningKeys, request: TokenRequest): Promise<string> {
  const issuedAt = request.issuedAt ?? Math.floor(Date.now() / 1000);
  const lifetime = request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new Error(`a token lives at most ${MAX_TOKEN_LIFETIME_SECONDS / 3600} hours, as Cognito's do`);
  }
  const groups = request.groups ?? [];
  const claims: JWTPayload = {
    email: request.email,
    email_verified: true,
    'cognito:username': request.email,
    token_use: 'id',
    auth_time: issuedAt,
    ...(groups.length > 0 ? { 'cognito:groups': [...groups] } : {}),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: keys.keyId, typ: 'JWT' })
    .setSubject(request.sub ?? subjectFor(request.email))
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetime)
    .setJti(randomUUID())
    .sign(keys.privateKey);
}

export type TokenVerdict =
  | { readonly ok: true; readonly payload: JWTPayload }
  | { readonly ok: false; readonly reason: string };

/**
 * Signature (RS256 only), issuer, audience, expiry and a `sub`: what the Cognito authorizer
 * checks; and what a Cognito token always is: issued now or before (within the clock skew),
 * living at most a day.
 */
export async function verifyToken(
  keys: SigningKeys,
  token: string,
  now: Date = new Date(),
): Promise<TokenVerdict> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      algorithms: [SIGNING_ALGORITHM],
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: now,
    });
    const issuedAt = payload.iat ?? Number.NaN;
    const expiresAt = payload.exp ?? Number.NaN;
    if (!(issuedAt <= Math.floor(now.getTime() / 1000) + CLOCK_SKEW_SECONDS)) {
      return { ok: false, reason: "The token's iat claim is not accepted: it is issued in the future" };
    }
    if (!(expiresAt - issuedAt <= MAX_TOKEN_LIFETIME_SECONDS)) {
      return { ok: false, reason: "The token's exp claim is not accepted: it lives longer than 24 hours" };
    }
    return { ok: true, payload };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'The token has expired' };
    if (error instanceof errors.JWTClaimValidationFailed) {
      return { ok: false, reason: `The token's ${error.claim} claim is not accepted` };
    }
    return { ok: false, reason: 'The token is not a valid token of the local user pool' };
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** Java's `Date.toString()` in UTC (`Tue Apr 04 18:39:39 UTC 2023`), which is how API Gateway renders exp/iat. */
export function javaDateString(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  const pad = (value: number) => String(value).padStart(2, '0');
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${pad(date.getUTCDate())} ${time} UTC ${date.getUTCFullYear()}`;
}

/**
 * The claims as a REST API's Cognito authorizer hands them to a Lambda proxy integration
 * (`requestContext.authorizer.claims`): every value a string; a list (`cognito:groups`)
 * rendered `[a b]`, space-separated in brackets; `exp` and `iat` as dates. Handlers must
 * therefore cope with strings, which lambdas/http/auth.ts does.
 */
export function apiGatewayClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') claims[name] = javaDateString(value);
    else if (Array.isArray(value)) claims[name] = `[${value.map(String).join(' ')}]`;
    else if (typeof value === 'object') claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}
