import type { APIGatewayProxyEvent } from 'aws-lambda';
import { forbidden, unauthorized } from './errors';

/** Who may call an operation. Each level includes the callers of the ones after it. */
export type Access = 'read' | 'deploy' | 'admin';

export const GROUPS = { admins: 'admins', deployers: 'deployers' } as const;

export interface Caller {
  readonly sub: string;
  readonly email: string;
  readonly groups: readonly string[];
}

/**
 * `cognito:groups` as it reaches the function. Cognito puts a list of group names in the ID
 * token; a REST API's Cognito authorizer hands every claim over as a string and renders that
 * list as `[admins deployers]` (space-separated, in brackets; `[admins]` for one group). Invoked
 * directly, the claim may be the list itself. Group names cannot hold whitespace, so the
 * rendering is read back exactly: nothing is split on commas or stripped of other brackets, and
 * a group is only ever a whole name (`[ops,admins]` is the one group `ops,admins`). Any other
 * string is taken as one whole group name.
 */
export function parseGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((group): group is string => typeof group === 'string');
  if (typeof value !== 'string' || value.length === 0) return [];
  const rendered = /^\[(.*)\]$/s.exec(value);
  if (rendered === null) return [value];
  return (rendered[1] ?? '').split(' ').filter((group) => group.length > 0);
}

/**
 * The app client whose ID tokens the API takes (the stack sets it). API Gateway's authorizer
 * accepts a token of any client of the user pool; with an existing pool (`userPoolId`) other
 * clients, with their own sign-up or federation, must not reach the API. A comma-separated
 * list: the CLI's client and the web console's.
 */
export const API_CLIENT_ID_VARIABLE = 'API_CLIENT_ID';

const isFalse = (value: unknown) => value === false || value === 'false';

export function callerFromEvent(event: APIGatewayProxyEvent): Caller {
  const claims: Record<string, unknown> | undefined = event.requestContext?.authorizer?.claims;
  if (!claims || typeof claims !== 'object') throw unauthorized();
  const sub = claims.sub;
  const email = claims.email;
  if (typeof sub !== 'string' || sub.length === 0) throw unauthorized();
  if (claims.token_use !== undefined && claims.token_use !== 'id') throw unauthorized();
  const clientIds = (process.env[API_CLIENT_ID_VARIABLE] ?? '').split(',').filter((id) => id !== '');
  if (clientIds.length > 0 && !clientIds.includes(String(claims.aud))) throw unauthorized();
  // A user who changed their e-mail address has not proven the new one: it names nobody yet.
  const verifiedEmail = typeof email === 'string' && email.length > 0 && !isFalse(claims.email_verified);
  return {
    sub,
    email: verifiedEmail ? email : sub,
    groups: parseGroups(claims['cognito:groups']),
  };
}

export function assertAccess(caller: Caller, access: Access): void {
  const isAdmin = caller.groups.includes(GROUPS.admins);
  if (access === 'read' || isAdmin) return;
  if (access === 'deploy' && caller.groups.includes(GROUPS.deployers)) return;
  throw forbidden(access === 'admin' ? GROUPS.admins : `${GROUPS.deployers} or ${GROUPS.admins}`);
}
