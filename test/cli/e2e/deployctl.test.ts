import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalRuntime, REPO_ROOT, type Ready } from '../../e2e/support/local-runtime';
import { waitUntil } from '../../e2e/support/processes';

/**
 * deployctl as people and CI use it, against one `npm start`: a child process per command,
 * exit codes and output as a shell sees them, and the live view in a real terminal (tmux).
 */

// Each test runs several deployctl processes one after another; a busy machine makes that slow.
vi.setConfig({ testTimeout: 120_000 });

const REPOSITORY = 'https://github.com/org/repo';
const BIN = join(REPO_ROOT, 'cli', 'deployctl.mjs');
const NODE_BIN = join(REPO_ROOT, 'node_modules', '.bin');

let workDir = '';
let runtime: LocalRuntime | undefined;
let ready: Ready;
let environment: NodeJS.ProcessEnv;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function deployctl(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...environment, ...extra } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(args: readonly string[]): Promise<string> {
  const result = await deployctl(args);
  if (result.code !== 0)
    throw new Error(`deployctl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const idOf = (stdout: string): string => {
  const id = /\b(?:ver|app|env|dep)_[0-9a-z]{26}\b/.exec(stdout)?.[0];
  if (id === undefined) throw new Error(`no id in ${stdout}`);
  return id;
};

interface WatchJson {
  deployment: {
    id: string;
    status: string;
    version_id: string;
    rollback_of: string | null;
    error_message: string;
  };
  applications: { name: string; tasks: { id: string; step_id: string; status: string; attempt: number }[] }[];
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'deployctl-e2e-'));
  const keys = join(workDir, 'keys');
  // `deployctl` on PATH, as `npm install` links a package's bin.
  await mkdir(join(workDir, 'bin'));
  await symlink(BIN, join(workDir, 'bin', 'deployctl'));
  environment = {
    ...process.env,
    PATH: `${join(workDir, 'bin')}:${NODE_BIN}:${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: join(workDir, 'config'),
    LOCAL_KEYS_DIR: keys,
    DEPLOYCTL_PROFILE: '',
    DEPLOYCTL_TOKEN: '',
    DEPLOYCTL_API_URL: '',
  };
  runtime = new LocalRuntime({ launcher: 'npm', env: { LOCAL_KEYS_DIR: keys } });
  ready = await runtime.ready();
}, 120_000);

afterAll(async () => {
  await runtime?.destroy();
  await rm(workDir, { recursive: true, force: true });
});

const ids = new Map<string, string>();
const id = (name: string): string => {
  const value = ids.get(name);
  if (value === undefined) throw new Error(`${name} was not created by an earlier step`);
  return value;
};

describe('login --local', () => {
  it('mints a token like npm run token and keeps it in a 0600 profile', async () => {
    const result = await deployctl([
      'login',
      '--local',
      '--url',
      ready.baseUrl,
      '--email',
      'me@example.com',
      '--groups',
      'admins',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`signed in to ${ready.apiUrl} as profile "default"`);
    const file = join(workDir, 'config', 'deployctl', 'profiles.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const reader = await deployctl([
      '--profile',
      'reader',
      'login',
      '--local',
      '--url',
      ready.baseUrl,
      '--email',
      'r@example.com',
      '--groups',
      '',
    ]);
    expect(reader.code).toBe(0);
  });
});

describe('the catalog', () => {
  it('is created with flags and from a file, and listed by name', async () => {
    ids.set(
      'v1',
      idOf(
        await ok([
          'versions',
          'create',
          '--tag',
          'v1.0.0',
          '--commit',
          'abc123def456',
          '--repository',
          REPOSITORY,
        ]),
      ),
    );
    ids.set(
      'v2',
      idOf(
        await ok([
          'versions',
          'create',
          '--tag',
          'v2.0.0',
          '--commit',
          'def456abc789',
          '--repository',
          REPOSITORY,
        ]),
      ),
    );
    const app = (name: string, ...config: string[]) =>
      ok([
        'apps',
        'create',
        '--name',
        name,
        '--repository',
        REPOSITORY,
        '--type',
        'microservice',
        ...config.flatMap((entry) => ['--config', entry]),
      ]);
    ids.set('api', idOf(await app('api-service')));
    ids.set('flaky', idOf(await app('flaky', 'simulate_fail=health_check')));
    ids.set('slow', idOf(await app('slow', 'simulate_delay_ms=60000')));
    ids.set('medium', idOf(await app('medium', 'simulate_delay_ms=1500')));
    await app('twin');
    await app('twin');
    const file = join(workDir, 'staging.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'staging',
        type: 'kubernetes',
        config: { cluster: 'local', namespace: 'default' },
      }),
    );
    ids.set('staging', idOf(await ok(['envs', 'create', '-f', file])));
    for (const name of ['flaky-env', 'slow-env', 'tty-env', 'pipe-env']) {
      ids.set(
        name,
        idOf(
          await ok([
            'envs',
            'create',
            '--name',
            name,
            '--type',
            'kubernetes',
            '--config',
            'cluster=local',
            '--config',
            'namespace=default',
          ]),
        ),
      );
    }
    const listed = await ok(['apps', 'list']);
    expect(listed.split('\n')[0]).toMatch(/^ID\s+NAME\s+TYPE\s+REPOSITORY\s+CONFIG$/);
    expect(listed).toContain('simulate_fail=health_check');
    const version = JSON.parse(await ok(['versions', 'get', 'v1.0.0', '-o', 'json'])) as { id: string };
    expect(version.id).toBe(id('v1'));
    const updated = JSON.parse(
      await ok(['apps', 'update', 'api-service', '--config', 'port=8080', '-o', 'json']),
    ) as {
      config: Record<string, unknown>;
    };
    expect(updated.config).toEqual({ port: 8080 });
  });
});

describe('deploy --wait', () => {
  it('follows a deployment to success: exit 0, the plain form in pipeline order', async () => {
    const result = await deployctl([
      'deploy',
      '--app',
      'api-service',
      '--env',
      'staging',
      '--version',
      'v1.0.0',
      '--wait',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^deployment dep_[0-9a-z]{26} {2}v1\.0\.0 → staging {2}(pending|running)$/);
    const finished = lines
      .filter((line) => /^api-service \w+: ✓ success/.test(line))
      .map((line) => line.split(':')[0]);
    expect(finished).toEqual([
      'api-service build',
      'api-service test',
      'api-service deploy',
      'api-service health_check',
    ]);
    expect(lines.at(-1)).toMatch(/^✓ deployment dep_[0-9a-z]{26} succeeded in \d+s$/);
    ids.set('first', idOf(lines[0] ?? ''));
  });

  it('rollback --previous goes back to the last version that succeeded there', async () => {
    const second = JSON.parse(
      await ok([
        'deploy',
        '--app',
        'api-service',
        '--env',
        'staging',
        '--version',
        'v2.0.0',
        '--wait',
        '-o',
        'json',
      ]),
    ) as WatchJson;
    expect(second.deployment.status).toBe('success');
    const result = await deployctl(['rollback', second.deployment.id, '--previous', '--wait', '-o', 'json']);
    expect(result.code).toBe(0);
    const rollback = JSON.parse(result.stdout) as WatchJson;
    expect(rollback.deployment).toMatchObject({
      status: 'success',
      version_id: id('v1'),
      rollback_of: second.deployment.id,
    });
  });

  it('a failing task is exit 1 with the reason; resume retries it and ends in success', async () => {
    const result = await deployctl([
      'deploy',
      '--app',
      'flaky',
      '--env',
      'flaky-env',
      '--version',
      'v1.0.0',
      '--wait',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('flaky health_check: ✗ failed');
    expect(result.stdout.trim().split('\n').at(-1)).toMatch(
      /^✗ deployment dep_\w+ failed in \d+s: .*HealthCheckFailed/,
    );
    const deployment = idOf(result.stdout);
    const resumed = await deployctl(['resume', deployment, '-o', 'json']);
    expect(resumed.code).toBe(0);
    const state = JSON.parse(resumed.stdout) as WatchJson;
    expect(state.deployment.status).toBe('success');
    const health = state.applications[0]?.tasks.find((task) => task.step_id === 'health_check');
    expect(health).toMatchObject({ status: 'success', attempt: 2 });
    const logs = await ok(['logs', deployment]);
    expect(logs).toContain('health_check');
    expect(logs).toContain('result:');
  });

  it('--timeout ends the wait with exit 3, and cancel ends a watch with exit 4', async () => {
    const timedOut = await deployctl([
      'deploy',
      '--app',
      'slow',
      '--env',
      'slow-env',
      '--version',
      'v1.0.0',
      '--wait',
      '--timeout',
      '2s',
    ]);
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr).toMatch(
      /^created deployment dep_\w+\nerror: timed out after 2s waiting for deployment dep_\w+; it is still running \(TIMEOUT\)\n$/,
    );
    const deployment = idOf(timedOut.stderr);
    // A watcher follows it; once it shows the running step, the deployment is cancelled.
    const watcher = spawn(process.execPath, [BIN, 'watch', deployment], { cwd: REPO_ROOT, env: environment });
    let watched = '';
    watcher.stdout.on('data', (chunk: Buffer) => {
      watched += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => watcher.once('exit', resolve));
    await waitUntil(
      'the watch to show the running build',
      () => watched.includes('slow build: ● running'),
      20_000,
      50,
    );
    const cancelled = await deployctl(['cancel', deployment]);
    expect(cancelled).toMatchObject({
      code: 0,
      stdout: `cancelled ${deployment}: Deployment cancelled by user\n`,
    });
    expect(await exited).toBe(4);
    expect(watched.trim().split('\n').at(-1)).toMatch(/^✗ deployment dep_\w+ was cancelled in \d+s$/);
    // A deployment not visible yet is waited for, never past --timeout.
    const unseen = await deployctl(['logs', '--follow', `dep_${'0'.repeat(26)}`, '--timeout', '1s']);
    expect(unseen).toMatchObject({
      code: 3,
      stderr: `error: timed out reading the logs of dep_${'0'.repeat(26)} (TIMEOUT)\n`,
    });
    // A finished deployment ends the watch at once, with the same code.
    expect((await deployctl(['watch', deployment, '--timeout', '30s'])).code).toBe(4);
  });

  it('a bad or ambiguous name is exit 2 with one line', async () => {
    const unknown = await deployctl(['deploy', '--app', 'nope', '--env', 'staging', '--version', 'v1.0.0']);
    expect(unknown).toMatchObject({ code: 2, stderr: 'error: no application named "nope" (USAGE)\n' });
    const twin = await deployctl(['deploy', '--app', 'twin', '--env', 'staging', '--version', 'v1.0.0']);
    expect(twin.code).toBe(2);
    expect(twin.stderr).toMatch(
      /^error: application "twin" is ambiguous: app_\w+ \(twin, .+\), app_\w+ \(twin, .+\); use one of these ids \(USAGE\)\n$/,
    );
  });

  it("a reader's token on deploy is exit 5 with the API's message and code", async () => {
    const result = await deployctl([
      '--profile',
      'reader',
      'deploy',
      '--app',
      'api-service',
      '--env',
      'staging',
      '--version',
      'v1.0.0',
    ]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^error: .+ \(FORBIDDEN\)\n$/);
    expect(result.stderr).not.toContain('    at ');
  });
});

describe('the live view in a terminal', () => {
  const socket = () => join(workDir, 'tmux.sock');
  const tmux = (...args: string[]) => spawnSync('tmux', ['-S', socket(), ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-t', 'live').stdout;

  afterAll(() => {
    tmux('kill-server');
  });

  it('refreshes in place while it runs and ends with every step done', async () => {
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      'live',
      '-x',
      '120',
      '-y',
      '30',
      'bash --norc --noprofile',
    );
    expect(started.status).toBe(0);
    const exports = ['PATH', 'XDG_CONFIG_HOME', 'LOCAL_KEYS_DIR']
      .map((name) => `${name}='${environment[name] ?? ''}'`)
      .join(' ');
    tmux(
      'send-keys',
      '-t',
      'live',
      `cd '${REPO_ROOT}' && clear && export ${exports} && deployctl deploy --app medium --env tty-env --version v1.0.0 --wait; echo "EXIT=$?"`,
      'Enter',
    );
    await waitUntil(
      'a running step on the screen',
      () => /medium {2}✓ build \d+s {2}● test/.test(screen()),
      30_000,
      100,
    );
    const during = screen();
    expect(during).toMatch(/deployment dep_[0-9a-z]{26} {2}v1\.0\.0 → tty-env {2}running {2}\d+s/);
    expect(during).toMatch(/medium {2}✓ build \d+s {2}● test \d+s {2}○ deploy {2}○ health_check/);
    await waitUntil('the command to end', () => screen().includes('EXIT='), 60_000, 100);
    const after = screen();
    expect(after).toContain('EXIT=0');
    expect(after).toMatch(/medium {2}✓ build \d+s {2}✓ test \d+s {2}✓ deploy \d+s {2}✓ health_check \d+s/);
    expect(after).toMatch(/✓ deployment dep_[0-9a-z]{26} succeeded in \d+s/);
    // Refreshed in place: the header and the application's line are on the screen once.
    expect(after.match(/deployment dep_[0-9a-z]{26} {2}v1/g)).toHaveLength(1);
    expect(after.match(/^\s+medium /gm)).toHaveLength(1);
  }, 90_000);

  it('piped, the same command appends plain lines, each change once', async () => {
    const result = await new Promise<Run>((resolve) => {
      const child = spawn(
        'bash',
        [
          '-c',
          `deployctl deploy --app medium --env pipe-env --version v1.0.0 --wait | cat; exit "\${PIPESTATUS[0]}"`,
        ],
        {
          cwd: REPO_ROOT,
          env: environment,
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b[');
    const lines = result.stdout.trim().split('\n');
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.filter((line) => line.startsWith('deployment '))).toHaveLength(1);
    for (const step of ['build', 'test', 'deploy', 'health_check'])
      expect(lines.filter((line) => line.startsWith(`medium ${step}: ✓ success`))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^✓ deployment dep_\w+ succeeded in \d+s$/);
  }, 90_000);
});
