import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { CliError, EXIT, usageError } from '../exit-codes';
import { readStdin } from '../parse';
import { expiryOfJwt, loadProfile, type Profile, profileName, saveProfile } from '../profiles';
import type { Context } from './context';

interface LoginOptions {
  local?: boolean;
  browser?: boolean;
  url?: string;
  email?: string;
  groups?: string;
  clientId?: string;
  region?: string;
  cognitoEndpoint?: string;
  username?: string;
  passwordStdin?: boolean;
  domain?: string;
  port?: string;
}

const LOCAL_URL = 'http://127.0.0.1:3000';

/** `http://host:port` or `…/api/v1`: the profile keeps the API's base (`…/api/v1`). */
export function apiUrlOf(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/api\/v\d+$/.test(trimmed) ? trimmed : `${trimmed}/api/v1`;
}

async function passwordOf(options: LoginOptions): Promise<string> {
  if (options.passwordStdin) return (await readStdin()).replace(/\r?\n$/, '');
  const fromEnvironment = process.env.DEPLOYCTL_PASSWORD;
  if (fromEnvironment) return fromEnvironment;
  if (!process.stdin.isTTY) throw usageError('give the password with --password-stdin or DEPLOYCTL_PASSWORD');
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await prompt.question('password: ');
  } finally {
    prompt.close();
  }
}

async function browserProfile(apiUrl: string, options: LoginOptions): Promise<Profile> {
  const { authorizeUrl, challengeOf, createVerifier, exchangeCode, listenForRedirect } = await import(
    '../auth/pkce'
  );
  if (!options.domain || !options.clientId)
    throw usageError('login --browser needs --domain and --client-id');
  const verifier = createVerifier();
  const state = randomBytes(16).toString('base64url');
  const redirect = await listenForRedirect(state, Number(options.port ?? '8976'));
  try {
    const url = authorizeUrl({
      domain: options.domain,
      clientId: options.clientId,
      redirectUri: redirect.redirectUri,
      challenge: challengeOf(verifier),
      state,
    });
    process.stderr.write(`Open this URL in a browser to sign in:\n\n  ${url}\n\nwaiting for the sign-in…\n`);
    const code = await redirect.code;
    const tokens = await exchangeCode({
      domain: options.domain,
      clientId: options.clientId,
      code,
      redirectUri: redirect.redirectUri,
      verifier,
    });
    return {
      api_url: apiUrl,
      auth: { kind: 'browser', client_id: options.clientId, domain: options.domain },
      id_token: tokens.id_token,
      refresh_token: tokens.refresh_token,
      expires_at: expiryOfJwt(tokens.id_token),
    };
  } finally {
    redirect.close();
  }
}

export function registerLogin(program: Command, context: Context): void {
  program
    .command('login')
    .description('sign in and store the token in a profile (file mode 0600)')
    .option('--local', 'against npm start: mint a local token from .local/keys')
    .option('--url <url>', `the API (for --local: ${LOCAL_URL})`)
    .option('--email <email>', 'with --local: who you are', 'admin@example.com')
    .option('--groups <groups>', 'with --local: comma-separated Cognito groups', 'admins')
    .option('--client-id <id>', 'the user pool client (UserPoolClientId)')
    .option('--region <region>', "the user pool's region", process.env.AWS_REGION)
    .option('--cognito-endpoint <url>', 'another cognito-idp endpoint (a test stand-in)')
    .option('--username <name>', 'the Cognito user')
    .option('--password-stdin', 'read the password from stdin (else DEPLOYCTL_PASSWORD or a prompt)')
    .option('--browser', "sign in in a browser (PKCE) through the pool's hosted domain")
    .option('--domain <domain>', 'with --browser: the user pool domain, e.g. auth.example.com')
    .option('--port <port>', 'with --browser: the loopback port of the redirect URI', '8976')
    .action(async (options: LoginOptions) => {
      const name = profileName(context.profile());
      let profile: Profile;
      if (options.local) {
        const groups = (options.groups ?? '')
          .split(',')
          .map((group) => group.trim())
          .filter(Boolean);
        const { localProfile } = await import('../auth/local');
        profile = await localProfile(
          apiUrlOf(options.url ?? LOCAL_URL),
          options.email ?? 'admin@example.com',
          groups,
        );
      } else {
        if (!options.url)
          throw usageError('login needs --url <API URL> (the stack output ApiUrl), or --local');
        if (options.browser) profile = await browserProfile(apiUrlOf(options.url), options);
        else {
          if (!options.clientId || !options.username || !options.region)
            throw usageError('login needs --client-id, --username and --region (or --browser, or --local)');
          const { passwordProfile } = await import('../auth/cognito');
          profile = await passwordProfile(
            apiUrlOf(options.url),
            { clientId: options.clientId, region: options.region, endpoint: options.cognitoEndpoint },
            options.username,
            await passwordOf(options),
          );
        }
      }
      const path = await saveProfile(name, profile);
      process.stderr.write(
        `signed in to ${profile.api_url} as profile "${name}" (${path}), until ${profile.expires_at}\n`,
      );
    });

  program
    .command('logout')
    .description('forget the profile')
    .action(async () => {
      const name = profileName(context.profile());
      if ((await loadProfile(name)) === undefined)
        throw new CliError(`no profile "${name}"`, EXIT.usage, 'USAGE');
      await saveProfile(name, undefined);
      process.stderr.write(`signed out of profile "${name}"\n`);
    });
}
