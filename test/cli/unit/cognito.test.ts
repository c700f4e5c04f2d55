import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordProfile, refreshWithCognito } from '../../../cli/auth/cognito';
import { EXIT } from '../../../cli/exit-codes';
import { startSecretsManagerLocal } from '../../../local/secrets-manager-local';

/** moto's server speaks cognito-idp too: a real user pool protocol, in memory. */
let moto: Awaited<ReturnType<typeof startSecretsManagerLocal>>;
let clientId = '';
const REGION = 'us-east-1';
const USER = 'alice@example.com';
const PASSWORD = 'Choose-a-long-passw0rd!';

beforeAll(async () => {
  moto = await startSecretsManagerLocal();
  const admin = new CognitoIdentityProviderClient({
    region: REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const pool = await admin.send(new CreateUserPoolCommand({ PoolName: 'deployctl-test' }));
  const poolId = pool.UserPool?.Id ?? '';
  const client = await admin.send(
    new CreateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientName: 'deployctl',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  );
  clientId = client.UserPoolClient?.ClientId ?? '';
  await admin.send(
    new AdminCreateUserCommand({
      UserPoolId: poolId,
      Username: USER,
      UserAttributes: [{ Name: 'email', Value: USER }],
      MessageAction: 'SUPPRESS',
    }),
  );
  await admin.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: poolId,
      Username: USER,
      Password: PASSWORD,
      Permanent: true,
    }),
  );
  admin.destroy();
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe('Cognito sign-in', () => {
  it('USER_PASSWORD_AUTH gives an ID token, its expiry and a refresh token; REFRESH_TOKEN_AUTH renews it', async () => {
    const settings = { clientId, region: REGION, endpoint: moto.endpoint };
    const profile = await passwordProfile('https://api.test/api/v1', settings, USER, PASSWORD);
    expect(profile.auth).toEqual({
      kind: 'cognito',
      client_id: clientId,
      region: REGION,
      endpoint: moto.endpoint,
      username: USER,
    });
    expect(profile.id_token.split('.')).toHaveLength(3);
    expect(Date.parse(profile.expires_at)).toBeGreaterThan(Date.now());
    expect(profile.refresh_token).toBeTruthy();
    const refreshed = await refreshWithCognito(profile, settings);
    expect(refreshed.id_token.split('.')).toHaveLength(3);
    expect(refreshed.refresh_token).toBe(profile.refresh_token);
  });

  it('a wrong password is exit 5 with one line', async () => {
    await expect(
      passwordProfile(
        'https://api.test/api/v1',
        { clientId, region: REGION, endpoint: moto.endpoint },
        USER,
        'wrong',
      ),
    ).rejects.toMatchObject({ exitCode: EXIT.notSignedIn, code: 'NotAuthorizedException' });
  });
});
