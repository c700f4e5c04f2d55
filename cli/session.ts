import { ApiClient } from './api-client';
import { CliError, EXIT } from './exit-codes';
import { loadProfile, needsRefresh, type Profile, profileName, saveProfile } from './profiles';

/** A profile's token made fresh again, the way it was first obtained. */
export async function refreshProfile(profile: Profile): Promise<Profile> {
  const auth = profile.auth;
  if (auth.kind === 'local') {
    const { localProfile } = await import('./auth/local');
    return localProfile(profile.api_url, auth.email, auth.groups);
  }
  if (auth.kind === 'cognito') {
    const { refreshWithCognito } = await import('./auth/cognito');
    return refreshWithCognito(profile, {
      clientId: auth.client_id,
      region: auth.region,
      endpoint: auth.endpoint,
    });
  }
  if (profile.refresh_token === undefined)
    throw new CliError(
      'the session expired; sign in again (deployctl login --browser)',
      EXIT.notSignedIn,
      'UNAUTHORIZED',
    );
  const { refreshWithDomain } = await import('./auth/pkce');
  const { expiryOfJwt } = await import('./profiles');
  const tokens = await refreshWithDomain(auth.domain, auth.client_id, profile.refresh_token);
  return {
    ...profile,
    id_token: tokens.id_token,
    refresh_token: tokens.refresh_token ?? profile.refresh_token,
    expires_at: expiryOfJwt(tokens.id_token),
  };
}

export interface SessionOptions {
  readonly profile?: string;
  readonly environment?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
}

/**
 * The API client of a command: `DEPLOYCTL_TOKEN` (+ `DEPLOYCTL_API_URL`) for CI, else the
 * profile, whose token is refreshed (and saved) when it is about to expire.
 */
export async function openSession(options: SessionOptions = {}): Promise<ApiClient> {
  const environment = options.environment ?? process.env;
  const now = options.now ?? (() => new Date());
  const name = profileName(options.profile, environment);
  const ciToken = environment.DEPLOYCTL_TOKEN;
  if (ciToken !== undefined && ciToken.length > 0) {
    const apiUrl = environment.DEPLOYCTL_API_URL || (await loadProfile(name, environment))?.api_url;
    if (!apiUrl)
      throw new CliError('DEPLOYCTL_TOKEN is set but DEPLOYCTL_API_URL is not', EXIT.usage, 'USAGE');
    return new ApiClient({ apiUrl, token: async () => ciToken, fetch: options.fetch });
  }
  let profile = await loadProfile(name, environment);
  if (profile === undefined)
    throw new CliError(
      `not signed in (profile "${name}"): run deployctl login, or set DEPLOYCTL_TOKEN`,
      EXIT.notSignedIn,
      'UNAUTHORIZED',
    );
  let current: Profile = profile;
  const apiUrl = environment.DEPLOYCTL_API_URL || current.api_url;
  return new ApiClient({
    apiUrl,
    fetch: options.fetch,
    token: async () => {
      if (needsRefresh(current, now())) {
        current = await refreshProfile(current);
        await saveProfile(name, current, environment);
        profile = current;
      }
      return current.id_token;
    },
  });
}
