import * as z from 'zod';

/**
 * `/config.json`, read by the console when it starts: where the API is and how to sign in.
 * One build serves every stack; the local runtime and the CDK stack each write this file.
 */
export const LocalSignIn = z.object({
  mode: z.literal('local'),
  /** `POST {email, groups}` → `{token, expires_at}`: the local runtime's token issuer */
  token_url: z.string(),
});

export const CognitoSignIn = z.object({
  mode: z.literal('cognito'),
  region: z.string(),
  user_pool_id: z.string(),
  client_id: z.string(),
  /** the hosted UI, e.g. `https://team.auth.eu-west-1.amazoncognito.com` */
  domain: z.string().url(),
  /** where the hosted UI sends the authorization code: the console's own URL */
  redirect_uri: z.string().url(),
  scopes: z.array(z.string()).default(['openid', 'email', 'profile']),
});

export const ConsoleRuntimeConfig = z.object({
  /** the API base, ending in `/api/v1` */
  api_url: z.string(),
  sign_in: z.discriminatedUnion('mode', [LocalSignIn, CognitoSignIn]),
});
export type ConsoleRuntimeConfig = z.infer<typeof ConsoleRuntimeConfig>;

/** The local token issuer's request and answer. */
export const LocalTokenRequest = z.object({
  email: z.string().email(),
  groups: z.array(z.string()).default([]),
});
export const LocalTokenResponse = z.object({ token: z.string(), expires_at: z.string() });
