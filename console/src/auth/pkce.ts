/** Authorization code + PKCE (RFC 7636, S256) for the Cognito hosted UI. */

const base64Url = (bytes: Uint8Array): string => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** 32 random bytes as base64url: a 43-character verifier, within RFC 7636's 43–128. */
type Random = (bytes: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;

export function createVerifier(random: Random = (bytes) => crypto.getRandomValues(bytes)): string {
  return base64Url(random(new Uint8Array(32)));
}

export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export interface HostedUi {
  readonly domain: string;
  readonly client_id: string;
  readonly redirect_uri: string;
  readonly scopes: readonly string[];
}

export function authorizeUrl(ui: HostedUi, challenge: string, state: string): string {
  const url = new URL('/oauth2/authorize', ui.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: ui.client_id,
    redirect_uri: ui.redirect_uri,
    scope: ui.scopes.join(' '),
    state,
    code_challenge_method: 'S256',
    code_challenge: challenge,
  }).toString();
  return url.toString();
}

/** The form body of the code exchange at `${domain}/oauth2/token`. */
export function tokenRequestBody(ui: HostedUi, code: string, verifier: string): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: ui.client_id,
    redirect_uri: ui.redirect_uri,
    code,
    code_verifier: verifier,
  });
}
