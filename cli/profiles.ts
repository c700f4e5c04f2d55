import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { CliError, EXIT } from './exit-codes';

/** How a profile signs in again when its token is about to expire. */
export const ProfileAuth = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), email: z.string(), groups: z.array(z.string()) }),
  z.object({
    kind: z.literal('cognito'),
    client_id: z.string(),
    region: z.string(),
    endpoint: z.string().optional(),
    username: z.string(),
  }),
  z.object({ kind: z.literal('browser'), client_id: z.string(), domain: z.string() }),
]);
export type ProfileAuth = z.infer<typeof ProfileAuth>;

export const Profile = z.object({
  api_url: z.string(),
  auth: ProfileAuth,
  id_token: z.string(),
  refresh_token: z.string().optional(),
  /** ISO-8601: when `id_token` expires */
  expires_at: z.string(),
});
export type Profile = z.infer<typeof Profile>;

const ProfilesFile = z.object({ profiles: z.record(z.string(), Profile) });
type ProfilesFile = z.infer<typeof ProfilesFile>;

export const DEFAULT_PROFILE = 'default';
export const PROFILE_FILE_MODE = 0o600;

/** `$XDG_CONFIG_HOME/deployctl`, else `~/.config/deployctl`. */
export function configDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const xdg = environment.XDG_CONFIG_HOME;
  return join(xdg !== undefined && xdg.length > 0 ? xdg : join(homedir(), '.config'), 'deployctl');
}

export const profilesPath = (environment: NodeJS.ProcessEnv = process.env): string =>
  join(configDirectory(environment), 'profiles.json');

/** --profile, then DEPLOYCTL_PROFILE, then `default`. */
export function profileName(
  option: string | undefined,
  environment: NodeJS.ProcessEnv = process.env,
): string {
  return option ?? (environment.DEPLOYCTL_PROFILE || DEFAULT_PROFILE);
}

async function readProfiles(path: string): Promise<ProfilesFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw error;
  }
  const parsed = ProfilesFile.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new CliError(`${path} is not a deployctl profiles file; delete it and sign in again`, EXIT.usage);
  return parsed.data;
}

export async function loadProfile(
  name: string,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<Profile | undefined> {
  return (await readProfiles(profilesPath(environment))).profiles[name];
}

/**
 * Writes the profile, readable by its owner only: the file is created 0600 in a 0700
 * folder and renamed into place, so no other user ever sees a token, even for a moment.
 */
export async function saveProfile(
  name: string,
  profile: Profile | undefined,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const directory = configDirectory(environment);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = profilesPath(environment);
  const file = await readProfiles(path);
  if (profile === undefined) delete file.profiles[name];
  else file.profiles[name] = profile;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: PROFILE_FILE_MODE });
  await chmod(temporary, PROFILE_FILE_MODE);
  await rename(temporary, path);
  return path;
}

/** Seconds before expiry at which a token is refreshed. */
export const REFRESH_MARGIN_SECONDS = 5 * 60;

export function needsRefresh(profile: Profile, now: Date = new Date()): boolean {
  return Date.parse(profile.expires_at) - now.getTime() < REFRESH_MARGIN_SECONDS * 1000;
}

/** The `exp` of a JWT, as an ISO-8601 string (no signature check: the API checks it). */
export function expiryOfJwt(token: string): string {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new CliError('the token is not a JWT', EXIT.notSignedIn, 'UNAUTHORIZED');
  const claims = z
    .object({ exp: z.number() })
    .safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  if (!claims.success) throw new CliError('the token has no expiry', EXIT.notSignedIn, 'UNAUTHORIZED');
  return new Date(claims.data.exp * 1000).toISOString();
}
