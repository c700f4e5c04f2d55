import type { Profile } from '../profiles';

/** A token of the local runtime, signed with `.local/keys` exactly as `npm run token` signs it. */
export async function mintLocalToken(
  email: string,
  groups: readonly string[],
): Promise<{ token: string; expiresAt: string }> {
  const [{ loadOrCreateSigningKeys }, { DEFAULT_TOKEN_TTL_SECONDS, signToken }] = await Promise.all([
    import('../../local/auth/keys'),
    import('../../local/auth/tokens'),
  ]);
  const keys = await loadOrCreateSigningKeys();
  const issuedAt = Date.now();
  const token = await signToken(keys, { email, groups: [...groups], ttlSeconds: DEFAULT_TOKEN_TTL_SECONDS });
  return { token, expiresAt: new Date(issuedAt + DEFAULT_TOKEN_TTL_SECONDS * 1000).toISOString() };
}

export async function localProfile(
  apiUrl: string,
  email: string,
  groups: readonly string[],
): Promise<Profile> {
  const { token, expiresAt } = await mintLocalToken(email, groups);
  return {
    api_url: apiUrl,
    auth: { kind: 'local', email, groups: [...groups] },
    id_token: token,
    expires_at: expiresAt,
  };
}
