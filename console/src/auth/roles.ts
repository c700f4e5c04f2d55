/** What the API lets a caller do, read from the token's groups (as lambdas/http/auth.ts decides). */
export type Access = 'read' | 'deploy' | 'admin';

export const ADMINS = 'admins';
export const DEPLOYERS = 'deployers';

export function allows(groups: readonly string[], access: Access): boolean {
  if (access === 'read' || groups.includes(ADMINS)) return true;
  return access === 'deploy' && groups.includes(DEPLOYERS);
}

/** Why an action is disabled for these groups; undefined when it is allowed. */
export function denialOf(groups: readonly string[], access: Access): string | undefined {
  if (allows(groups, access)) return undefined;
  return access === 'admin' ? `Needs the ${ADMINS} role` : `Needs the ${DEPLOYERS} or ${ADMINS} role`;
}

export interface Claims {
  readonly email: string;
  readonly groups: readonly string[];
  /** epoch seconds */
  readonly exp: number;
}

/** The claims of an ID token (not verified: the API verifies; the console only adapts its buttons). */
export function claimsOf(token: string): Claims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(decodeURIComponent(escape(json)));
    if (typeof claims !== 'object' || claims === null) return undefined;
    const record = claims as Record<string, unknown>;
    const groups = record['cognito:groups'];
    return {
      email: typeof record.email === 'string' ? record.email : String(record.sub ?? ''),
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
      exp: typeof record.exp === 'number' ? record.exp : 0,
    };
  } catch {
    return undefined;
  }
}
