import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { EXIT } from '../../../cli/exit-codes';
import {
  configDirectory,
  loadProfile,
  needsRefresh,
  type Profile,
  profileName,
  saveProfile,
} from '../../../cli/profiles';
import { openSession } from '../../../cli/session';
import { loadOrCreateSigningKeys } from '../../../local/auth/keys';
import { verifyToken } from '../../../local/auth/tokens';

let home = '';
let keysDir = '';
let environment: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'deployctl-profiles-'));
  keysDir = await mkdtemp(join(tmpdir(), 'deployctl-keys-'));
  environment = { XDG_CONFIG_HOME: home };
  vi.stubEnv('LOCAL_KEYS_DIR', keysDir);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(home, { recursive: true, force: true });
  await rm(keysDir, { recursive: true, force: true });
});

const profile = (expiresAt: string, token = 'old-token'): Profile => ({
  api_url: 'http://api.test/api/v1',
  auth: { kind: 'local', email: 'dev@example.com', groups: ['deployers'] },
  id_token: token,
  expires_at: expiresAt,
});

/** The API double: answers every call with an empty version list and records the token it got. */
function recordingFetch(tokens: string[]): typeof fetch {
  return (async (_input: string | URL | Request, init?: RequestInit) => {
    tokens.push(String(new Headers(init?.headers).get('authorization')));
    return Response.json({ versions: [], next_cursor: null });
  }) as typeof fetch;
}

describe('profiles', () => {
  it('live in $XDG_CONFIG_HOME/deployctl, readable by their owner only', async () => {
    const path = await saveProfile('default', profile('2030-01-01T00:00:00Z'), environment);
    expect(path).toBe(join(home, 'deployctl', 'profiles.json'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(configDirectory(environment))).mode & 0o777).toBe(0o700);
    await saveProfile('ci', profile('2030-01-01T00:00:00Z', 'other'), environment);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await loadProfile('ci', environment))?.id_token).toBe('other');
    expect((await loadProfile('default', environment))?.id_token).toBe('old-token');
  });

  it('are chosen by --profile, then DEPLOYCTL_PROFILE, then "default"', () => {
    expect(profileName('staging', { DEPLOYCTL_PROFILE: 'ci' })).toBe('staging');
    expect(profileName(undefined, { DEPLOYCTL_PROFILE: 'ci' })).toBe('ci');
    expect(profileName(undefined, {})).toBe('default');
    expect(configDirectory({ XDG_CONFIG_HOME: '' })).toMatch(/\.config\/deployctl$/);
  });

  it('a token is refreshed five minutes before it expires', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    expect(needsRefresh(profile('2026-12-01T10:10:00Z'), now)).toBe(false);
    expect(needsRefresh(profile('2026-12-01T10:04:00Z'), now)).toBe(true);
  });

  it('an expiring local token is minted again, saved, and used', async () => {
    await saveProfile('expiring', profile(new Date(Date.now() + 60_000).toISOString()), environment);
    const tokens: string[] = [];
    const api = await openSession({ profile: 'expiring', environment, fetch: recordingFetch(tokens) });
    await api.get('/versions', z.object({ versions: z.array(z.unknown()) }));
    const saved = await loadProfile('expiring', environment);
    expect(saved?.id_token).not.toBe('old-token');
    expect(Date.parse(saved?.expires_at ?? '')).toBeGreaterThan(Date.now() + 11 * 3600_000);
    expect(tokens).toEqual([`Bearer ${saved?.id_token}`]);
    const verdict = await verifyToken(await loadOrCreateSigningKeys(keysDir), saved?.id_token ?? '');
    expect(verdict.ok && verdict.payload.email).toBe('dev@example.com');
    expect((await stat(join(home, 'deployctl', 'profiles.json'))).mode & 0o777).toBe(0o600);
  });

  it('DEPLOYCTL_TOKEN wins over the profile, with DEPLOYCTL_API_URL', async () => {
    const session = await openSession({
      environment: {
        ...environment,
        DEPLOYCTL_TOKEN: 'ci-token',
        DEPLOYCTL_API_URL: 'http://ci.test/api/v1',
      },
    });
    expect(session.apiUrl).toBe('http://ci.test/api/v1');
    await expect(
      openSession({ environment: { DEPLOYCTL_TOKEN: 'x', XDG_CONFIG_HOME: join(home, 'none') } }),
    ).rejects.toMatchObject({
      exitCode: EXIT.usage,
    });
    expect(
      JSON.parse(await readFile(join(home, 'deployctl', 'profiles.json'), 'utf8')).profiles.default.id_token,
    ).toBe('old-token');
  });
});
