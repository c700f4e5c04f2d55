/**
 * The signed-in session: in memory, mirrored to sessionStorage so a reload of the tab keeps
 * it; never localStorage (a token must not outlive the tab or reach other tabs).
 */
const KEY = 'deploy-manager.session';
const PKCE_KEY = 'deploy-manager.pkce';

let current: string | undefined;

export function loadToken(): string | undefined {
  if (current !== undefined) return current;
  current = sessionStorage.getItem(KEY) ?? undefined;
  return current;
}

export function saveToken(token: string): void {
  current = token;
  sessionStorage.setItem(KEY, token);
}

export function clearSession(): void {
  current = undefined;
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(PKCE_KEY);
}

export interface PendingSignIn {
  readonly verifier: string;
  readonly state: string;
}

export function savePending(pending: PendingSignIn): void {
  sessionStorage.setItem(PKCE_KEY, JSON.stringify(pending));
}

export function takePending(): PendingSignIn | undefined {
  const text = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'verifier' in value && 'state' in value) {
      const { verifier, state } = value as Record<string, unknown>;
      if (typeof verifier === 'string' && typeof state === 'string') return { verifier, state };
    }
  } catch {
    // a damaged entry is no pending sign-in
  }
  return undefined;
}
