import { CliError, EXIT } from '../exit-codes';
import { expiryOfJwt, type Profile } from '../profiles';

export interface CognitoSettings {
  readonly clientId: string;
  readonly region: string;
  /** another cognito-idp endpoint than AWS's (tests use moto's server) */
  readonly endpoint?: string;
}

interface Tokens {
  readonly idToken: string;
  readonly refreshToken?: string;
}

/** The SDK is loaded only by the commands that sign in, so other commands start fast. */
async function initiateAuth(
  settings: CognitoSettings,
  flow: 'USER_PASSWORD_AUTH' | 'REFRESH_TOKEN_AUTH',
  parameters: Record<string, string>,
): Promise<Tokens> {
  const { CognitoIdentityProviderClient, InitiateAuthCommand } = await import(
    '@aws-sdk/client-cognito-identity-provider'
  );
  const client = new CognitoIdentityProviderClient({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    // InitiateAuth is unsigned; the SDK still wants credentials to exist.
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
  });
  try {
    const answer = await client.send(
      new InitiateAuthCommand({ ClientId: settings.clientId, AuthFlow: flow, AuthParameters: parameters }),
    );
    if (answer.ChallengeName)
      throw new CliError(
        `Cognito asks for ${answer.ChallengeName}; finish it in the hosted sign-in (deployctl login --browser)`,
        EXIT.notSignedIn,
        'CHALLENGE',
      );
    const idToken = answer.AuthenticationResult?.IdToken;
    if (idToken === undefined)
      throw new CliError('Cognito answered without an ID token', EXIT.notSignedIn, 'UNAUTHORIZED');
    return { idToken, refreshToken: answer.AuthenticationResult?.RefreshToken };
  } catch (error) {
    if (error instanceof CliError) throw error;
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`Cognito refused the sign-in: ${message}`, EXIT.notSignedIn, name);
  } finally {
    client.destroy();
  }
}

export async function passwordProfile(
  apiUrl: string,
  settings: CognitoSettings,
  username: string,
  password: string,
): Promise<Profile> {
  const tokens = await initiateAuth(settings, 'USER_PASSWORD_AUTH', {
    USERNAME: username,
    PASSWORD: password,
  });
  return {
    api_url: apiUrl,
    auth: {
      kind: 'cognito',
      client_id: settings.clientId,
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      username,
    },
    id_token: tokens.idToken,
    refresh_token: tokens.refreshToken,
    expires_at: expiryOfJwt(tokens.idToken),
  };
}

/** A new ID token from the refresh token; Cognito keeps the refresh token the same. */
export async function refreshWithCognito(profile: Profile, settings: CognitoSettings): Promise<Profile> {
  if (profile.refresh_token === undefined)
    throw new CliError(
      'the session expired; sign in again (deployctl login)',
      EXIT.notSignedIn,
      'UNAUTHORIZED',
    );
  const tokens = await initiateAuth(settings, 'REFRESH_TOKEN_AUTH', { REFRESH_TOKEN: profile.refresh_token });
  return {
    ...profile,
    id_token: tokens.idToken,
    refresh_token: tokens.refreshToken ?? profile.refresh_token,
    expires_at: expiryOfJwt(tokens.idToken),
  };
}
