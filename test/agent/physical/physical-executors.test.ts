import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshTarget } from '../../../agent/config/target';
import { type Executor, TaskFailure } from '../../../agent/executors/executor';
import { physicalExecutors } from '../../../agent/executors/physical';
import { shellQuote } from '../../../agent/executors/physical/shell';
import { startTestHosts, type TestHost, type TestHosts } from './support/hosts';
import { testTask } from './support/task-context';

/**
 * The physical executors against two real hosts (network namespaces running sshd, see
 * support/hosts.ts). The application is python's http.server serving the release directory,
 * whose page names the release: what a user of the hosts would see.
 */

const APP_SCRIPT = join(import.meta.dirname, 'support', 'app.sh');
const PROBE_SCRIPT = join(import.meta.dirname, 'support', 'probe.py');

/** Real sshd sessions and python servers on a shared, busy machine: generous, not a threshold. */
const SLOW_HOST_TEST_MS = 180_000;

let hosts: TestHosts;
let events: string;
let nextPort = 18_000;

beforeAll(async () => {
  hosts = await startTestHosts(2);
  events = join(hosts.shared, 'events.log');
}, SLOW_HOST_TEST_MS);

afterAll(async () => {
  await hosts?.cleanup();
}, SLOW_HOST_TEST_MS);

const executor = (type: string): Executor => {
  const found = physicalExecutors().find((candidate) => candidate.type === type);
  if (!found) throw new Error(`no physical executor for ${type}`);
  return found;
};

const sshTarget = (overrides: Partial<SshTarget> = {}): SshTarget => ({
  user: hosts.user,
  private_key_path: hosts.privateKeyPath,
  known_hosts: [...hosts.knownHosts],
  port: 22,
  ...overrides,
});

const hostA = (): TestHost => {
  const [host] = hosts.hosts;
  if (!host) throw new Error('no host');
  return host;
};
const hostB = (): TestHost => {
  const host = hosts.hosts[1];
  if (!host) throw new Error('no second host');
  return host;
};

/** An environment config for one application of the test hosts, on ports of its own. */
function environmentConfig(application: string, overrides: Record<string, unknown> = {}) {
  const appPort = nextPort;
  nextPort += 2;
  const state = `${hosts.mountPoint}/${application}/state`;
  const config = {
    hosts: hosts.hosts.map((host) => host.name),
    release_root: `${hosts.mountPoint}/${application}`,
    fetch_command:
      "printf '%s %s\\n' {application} {git_tag} > {release_dir}/index.html && printf '%s\\n' {image} > {release_dir}/IMAGE && echo fetched {git_tag}",
    restart_command: `/bin/sh ${shellQuote(APP_SCRIPT)} {host} {port} {release_dir} ${shellQuote(state)} ${shellQuote(events)}`,
    active_command: `/usr/bin/python3 ${shellQuote(PROBE_SCRIPT)} {host} {port} {application} {git_tag} && echo up {host} {port} >> ${shellQuote(events)}`,
    active_attempts: 50,
    active_interval_seconds: 0.2,
    app_port: appPort,
    green_port: appPort + 1,
    max_unavailable: 1,
    ...overrides,
  };
  return config as Record<string, Parameters<typeof testTask>[0]['config'][string]>;
}

async function page(host: TestHost, port: number): Promise<string> {
  const response = await fetch(`http://${host.address}:${port}/`);
  return (await response.text()).trim();
}

async function runTask(
  type: string,
  config: ReturnType<typeof environmentConfig>,
  gitTag: string,
  ssh = sshTarget(),
) {
  const task = testTask({
    type,
    config,
    gitTag,
    ssh,
    registry: { host: 'registry.example.com', insecure: false },
  });
  return { task, result: await executor(type).execute(task.context) };
}

async function failureOf(promise: Promise<unknown>): Promise<TaskFailure> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof TaskFailure)) throw new Error(`expected a TaskFailure, got ${String(outcome)}`);
  return outcome;
}

const eventLines = async (): Promise<string[]> =>
  existsSync(events) ? (await readFile(events, 'utf8')).split('\n').filter(Boolean) : [];

describe('deploy (rolling-update) on physical hosts', { timeout: SLOW_HOST_TEST_MS }, () => {
  it('moves both hosts from v1 to v2 one at a time, one host always serving', async () => {
    const config = environmentConfig('rolling');
    const port = Number(config.app_port);
    const first = await runTask('deploy', config, 'v1.0.0');
    expect(first.result).toEqual({
      hosts: [hostA().name, hostB().name],
      release: `${hosts.mountPoint}/rolling/releases/v1.0.0`,
    });
    expect(await page(hostA(), port)).toBe('shop v1.0.0');
    expect(await page(hostB(), port)).toBe('shop v1.0.0');

    const eventsBefore = (await eventLines()).length;
    const answered: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const pages = await Promise.all(
          [hostA(), hostB()].map((host) => page(host, port).catch(() => undefined)),
        );
        answered.push(pages.filter((text) => text !== undefined).length);
      }
    })();
    const second = await runTask('deploy', config, 'v2.0.0').finally(() => {
      polling = false;
    });
    await poller;

    expect(second.result.release).toBe(`${hosts.mountPoint}/rolling/releases/v2.0.0`);
    expect(await page(hostA(), port)).toBe('shop v2.0.0');
    expect(await page(hostB(), port)).toBe('shop v2.0.0');
    // Each host's restart stops its old server (`stop`) and its active check sees the new one
    // (`up`): replayed in order, never more than one host is down.
    const rollout = (await eventLines()).slice(eventsBefore).filter((line) => line.endsWith(` ${port}`));
    const down = new Set<string>();
    let mostDown = 0;
    for (const line of rollout) {
      const [kind, host] = line.split(' ');
      if (kind === 'stop' && host) down.add(host);
      if (kind === 'up' && host) down.delete(host);
      mostDown = Math.max(mostDown, down.size);
    }
    expect(rollout.filter((line) => line.startsWith('stop ')).map((line) => line.split(' ')[1])).toEqual([
      hostA().address,
      hostB().address,
    ]);
    expect(mostDown).toBe(1);
    expect(down.size).toBe(0);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((count) => count >= 1)).toBe(true);

    for (const host of [hostA(), hostB()]) {
      expect(await readlink(join(host.files, 'rolling', 'current'))).toBe(
        `${hosts.mountPoint}/rolling/releases/v2.0.0`,
      );
      expect(
        (await readFile(join(host.files, 'rolling', 'releases', 'v2.0.0', 'IMAGE'), 'utf8')).trim(),
      ).toBe('registry.example.com/shop:v2.0.0');
    }
    expect(second.task.log.lines).toContain(`stdout: [${hostB().name}] fetched v2.0.0`);
  });
});

describe('command templates on physical hosts', { timeout: SLOW_HOST_TEST_MS }, () => {
  it('hands a git tag with quotes and command substitutions to the remote shell as one literal word', async () => {
    const marker = join(hosts.shared, 'broke-out');
    const gitTag = `v3'; touch ${marker}; echo '$(touch ${marker})\`touch ${marker}\``;
    const config = environmentConfig('quoting', { hosts: [hostA().name] });
    const { result } = await runTask('deploy', config, gitTag);

    expect(existsSync(marker)).toBe(false);
    expect(await page(hostA(), Number(config.app_port))).toBe(`shop ${gitTag}`);
    // The release directory is the tag with anything unsafe in a path replaced.
    expect(result.release).toMatch(new RegExp(`^${hosts.mountPoint}/quoting/releases/v3_[A-Za-z0-9._+-]+$`));
    expect(await readlink(join(hostA().files, 'quoting', 'current'))).toBe(result.release);
  });
});

describe('blue-green on physical hosts', { timeout: SLOW_HOST_TEST_MS }, () => {
  it('starts green beside blue, switches traffic to it, then removes blue', async () => {
    const config = environmentConfig('bluegreen', { delay: 0 });
    const appPort = Number(config.app_port);
    const greenPort = Number(config.green_port);
    const root = `${hosts.mountPoint}/bluegreen`;
    await runTask('deploy', config, 'v1');

    const green = await runTask('deploy_green', config, 'v2');
    expect(green.result).toEqual({
      hosts: [hostA().name, hostB().name],
      release: `${root}/releases/v2`,
      green_port: greenPort,
    });
    for (const host of [hostA(), hostB()]) {
      expect(await page(host, appPort)).toBe('shop v1');
      expect(await page(host, greenPort)).toBe('shop v2');
      expect(await readlink(join(host.files, 'bluegreen', 'green'))).toBe(`${root}/releases/v2`);
      expect(await readlink(join(host.files, 'bluegreen', 'current'))).toBe(`${root}/releases/v1`);
    }

    const switched = await runTask('switch_traffic', config, 'v2');
    expect(switched.result).toEqual({
      hosts: [hostA().name, hostB().name],
      release: `${root}/releases/v2`,
      blue: { [hostA().name]: `${root}/releases/v1`, [hostB().name]: `${root}/releases/v1` },
    });
    for (const host of [hostA(), hostB()]) {
      expect(await page(host, appPort)).toBe('shop v2');
      expect(await readlink(join(host.files, 'bluegreen', 'current'))).toBe(`${root}/releases/v2`);
      expect(existsSync(join(host.files, 'bluegreen', 'releases', 'v1'))).toBe(true);
    }

    const cleaned = await runTask('cleanup_blue', config, 'v2');
    expect(cleaned.result).toEqual({
      hosts: [hostA().name, hostB().name],
      removed: { [hostA().name]: `${root}/releases/v1`, [hostB().name]: `${root}/releases/v1` },
    });
    for (const host of [hostA(), hostB()]) {
      expect(existsSync(join(host.files, 'bluegreen', 'releases', 'v1'))).toBe(false);
      expect(existsSync(join(host.files, 'bluegreen', 'blue'))).toBe(false);
      expect(existsSync(join(host.files, 'bluegreen', 'releases', 'v2', 'index.html'))).toBe(true);
      expect(await page(host, appPort)).toBe('shop v2');
    }

    // A retried cleanup finds nothing left to remove.
    const again = await runTask('cleanup_blue', config, 'v2');
    expect(again.result.removed).toEqual({});
  });

  it('refuses to switch a host where deploy_green has not put the release, naming it', async () => {
    const config = environmentConfig('nogreen');
    await runTask('deploy', config, 'v1');
    const failure = await failureOf(runTask('switch_traffic', config, 'v9'));
    expect(failure.error).toBe('SwitchFailed');
    expect(failure.cause).toContain(hostA().name);
    expect(failure.cause).toContain('deploy_green has not run');
    expect(await page(hostA(), Number(config.app_port))).toBe('shop v1');
    expect(await page(hostB(), Number(config.app_port))).toBe('shop v1');
  });

  it('caps the wait at the maxDelaySeconds the agent was built with', async () => {
    const config = environmentConfig('capped', { delay: 3600 });
    const cleanup = physicalExecutors({ maxDelaySeconds: 0 }).find(
      (candidate) => candidate.type === 'cleanup_blue',
    );
    const task = testTask({ type: 'cleanup_blue', config, gitTag: 'v2', ssh: sshTarget() });
    const result = await cleanup?.execute(task.context);
    expect(result).toEqual({ hosts: [hostA().name, hostB().name], removed: {} });
    expect(task.log.lines).toContain('removing blue in 0 s');
    expect(task.log.lines).toContain(`${hostA().name}: no blue release to remove`);
  });

  it('waits out the delay before removing blue, and stops waiting when the task is aborted', async () => {
    const config = environmentConfig('abortwait', { delay: 3600 });
    const task = testTask({ type: 'cleanup_blue', config, gitTag: 'v2', ssh: sshTarget() });
    const running = executor('cleanup_blue').execute(task.context);
    await task.log.waitFor(/removing blue in 3600 s/);
    task.abort.abort();
    const failure = await failureOf(running);
    expect(failure.error).toBe('TaskAborted');
    expect(failure.cause).toContain('waiting to remove blue');
  });
});

describe('failures on physical hosts', { timeout: SLOW_HOST_TEST_MS }, () => {
  it('stops the rollout at a host whose restart fails, naming it; the hosts after it keep the old release', async () => {
    const config = environmentConfig('badrestart');
    const port = Number(config.app_port);
    await runTask('deploy', config, 'v1');
    const failing = {
      ...config,
      restart_command: `if [ {host} = ${shellQuote(hostA().address)} ]; then echo 'app.service: unit failed' >&2; exit 3; fi; ${config.restart_command}`,
    };
    const failure = await failureOf(runTask('deploy', failing, 'v2'));
    expect(failure.error).toBe('RestartFailed');
    expect(failure.cause).toContain(`Stopped at ${hostA().name}`);
    expect(failure.cause).toContain('exited with 3: app.service: unit failed');
    expect(failure.cause).toContain(`Not touched: ${hostB().name}`);
    expect(await page(hostB(), port)).toBe('shop v1');
    expect(await readlink(join(hostB().files, 'badrestart', 'current'))).toBe(
      `${hosts.mountPoint}/badrestart/releases/v1`,
    );
  });

  it('fails a host whose service never becomes active, after the configured attempts', async () => {
    const config = environmentConfig('inactive', {
      active_attempts: 3,
      active_command: `test {host} != ${shellQuote(hostB().address)} || { echo inactive >&2; exit 3; }`,
    });
    const failure = await failureOf(runTask('deploy', config, 'v1'));
    expect(failure.error).toBe('ServiceNotActive');
    expect(failure.cause).toContain(`Stopped at ${hostB().name}`);
    expect(failure.cause).toContain('failed 3 times (last exit 3): inactive');
    expect(failure.cause).toContain(`Updated: ${hostA().name}`);
  });

  it('fails before touching any host when one has nothing listening for SSH, naming it', async () => {
    const config = environmentConfig('deadport', { hosts: [hostA().name, hosts.deadAddress] });
    const failure = await failureOf(runTask('deploy', config, 'v1'));
    expect(failure.error).toBe('HostUnreachable');
    expect(failure.cause).toContain(
      `${hosts.deadAddress} (${hosts.deadAddress}) is unreachable (ECONNREFUSED)`,
    );
    expect(existsSync(join(hostA().files, 'deadport'))).toBe(false);
  });

  it('fails with HostUnreachable naming a host whose sshd is stopped', async () => {
    const config = environmentConfig('stopped');
    await hostB().stopSshd();
    try {
      const failure = await failureOf(runTask('deploy', config, 'v1'));
      expect(failure.error).toBe('HostUnreachable');
      expect(failure.cause).toContain(hostB().name);
      expect(failure.cause).not.toContain(hostA().name);
      expect(existsSync(join(hostA().files, 'stopped'))).toBe(false);
    } finally {
      await hostB().startSshd();
    }
  });

  it('fails with HostKeyMismatch naming a host that presents a new host key', async () => {
    const config = environmentConfig('newkey');
    await hostA().startSshd({ newHostKey: true });
    try {
      const failure = await failureOf(runTask('deploy', config, 'v1'));
      expect(failure.error).toBe('HostKeyMismatch');
      expect(failure.cause).toContain(`The host key of ${hostA().name}`);
      expect(failure.cause).not.toContain(hostB().name);
      expect(existsSync(join(hostB().files, 'newkey'))).toBe(false);
    } finally {
      await hostA().startSshd();
    }
  });

  it('fails with HostKeyMismatch naming a host whose key is not pinned', async () => {
    const config = environmentConfig('unpinned');
    const failure = await failureOf(
      runTask('deploy', config, 'v1', sshTarget({ known_hosts: [hostA().knownHostsLine] })),
    );
    expect(failure.error).toBe('HostKeyMismatch');
    expect(failure.cause).toBe(
      `No host key is pinned for ${hostB().name} (${hostB().address}:${hostB().sshPort}) in known_hosts`,
    );
  });

  it('fails with AuthenticationFailed when the hosts do not accept the key, and InvalidPrivateKey for a non-key', async () => {
    const strangerKey = join(hosts.shared, 'stranger_key');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
    const config = environmentConfig('stranger', { hosts: [hostA().name] });
    const refused = await failureOf(
      runTask('deploy', config, 'v1', sshTarget({ private_key_path: strangerKey })),
    );
    expect(refused.error).toBe('AuthenticationFailed');
    expect(refused.cause).toContain(hostA().name);

    const notAKey = join(hosts.shared, 'not_a_key');
    await writeFile(notAKey, 'hunter2\n');
    const unusable = await failureOf(
      runTask('deploy', config, 'v1', sshTarget({ private_key_path: notAKey })),
    );
    expect(unusable.error).toBe('InvalidPrivateKey');
    expect(unusable.cause).not.toContain('hunter2');
  });

  it('accepts host keys pinned as hashed entries of a known_hosts file', async () => {
    const knownHostsFile = join(hosts.shared, 'known_hosts');
    await writeFile(knownHostsFile, `${hosts.knownHosts.join('\n')}\n`);
    await promisify(execFile)('ssh-keygen', ['-H', '-f', knownHostsFile]);
    const hashed = await readFile(knownHostsFile, 'utf8');
    expect(hashed).not.toContain(hostA().address);
    const config = environmentConfig('hashed');
    const { result, task } = await runTask(
      'deploy',
      config,
      'v1',
      sshTarget({ known_hosts: knownHostsFile }),
    );
    expect(result.hosts).toEqual([hostA().name, hostB().name]);
    expect(await page(hostB(), Number(config.app_port))).toBe('shop v1');
    // The private key was read as a secret, so the runtime's log masks it.
    expect(task.secretsRead).toEqual([await readFile(hosts.privateKeyPath, 'utf8')]);
  });

  it('ends a long remote command when the task is aborted, and fails with TaskAborted', async () => {
    const pidFile = join(hosts.shared, 'long-fetch.pid');
    const config = environmentConfig('abortfetch', {
      hosts: [hostA().name],
      fetch_command: `echo $$ > ${shellQuote(pidFile)}; echo fetch started; exec sleep 600`,
    });
    const task = testTask({ type: 'deploy', config, gitTag: 'v1', ssh: sshTarget() });
    const running = executor('deploy').execute(task.context);
    await task.log.waitFor(/fetch started/);
    task.abort.abort();
    const failure = await failureOf(running);
    expect(failure.error).toBe('TaskAborted');
    expect(failure.cause).toBe(`The task was aborted while running fetch on ${hostA().name}`);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(await gone(pid)).toBe(true);
    expect(existsSync(join(hostA().files, 'abortfetch', 'current'))).toBe(false);
  });

  it('ends a remote command that outlives command_timeout_seconds, naming the host', async () => {
    const pidFile = join(hosts.shared, 'slow-restart.pid');
    const config = environmentConfig('timeout', {
      hosts: [hostB().name],
      command_timeout_seconds: 1,
      restart_command: `echo $$ > ${shellQuote(pidFile)}; exec sleep 600`,
    });
    const failure = await failureOf(runTask('deploy', config, 'v1'));
    expect(failure.error).toBe('RemoteCommandTimedOut');
    expect(failure.cause).toContain(`restart on ${hostB().name} did not finish within 1 s`);
    expect(await gone(Number(await readFile(pidFile, 'utf8')))).toBe(true);
  });
});

describe('configuration of physical environments', { timeout: SLOW_HOST_TEST_MS }, () => {
  it('fails a config without hosts or commands, naming the keys, before connecting anywhere', async () => {
    const failure = await failureOf(runTask('deploy', { release_root: '/srv/shop' }, 'v1'));
    expect(failure.error).toBe('InvalidConfig');
    expect(failure.cause).toContain('config.hosts');
    expect(failure.cause).toContain('config.fetch_command');
    expect(failure.cause).toContain('config.restart_command');
  });

  it('fails a command naming {port} when the environment has no port for it', async () => {
    const { green_port: _unused, ...config } = environmentConfig('noport');
    const failure = await failureOf(runTask('deploy_green', config, 'v1'));
    expect(failure.error).toBe('InvalidConfig');
    expect(failure.cause).toContain('config.restart_command names {port}');
    expect(failure.cause).toContain('config.green_port');
  });

  it('fails with NoCredentials when the agent has no ssh target and reads no stored credentials', async () => {
    const task = testTask({
      type: 'deploy',
      config: environmentConfig('nossh'),
      gitTag: 'v1',
      ssh: sshTarget(),
    });
    const context = { ...task.context, target: { environment: 'hosts', secrets: {} } };
    const failure = await failureOf(executor('deploy').execute(context));
    expect(failure.error).toBe('NoCredentials');
    expect(failure.cause).toContain('"ssh_private_key"');
  });
});

/** Whether the process ends (the watchdog sends TERM at once, KILL after 2 s). */
async function gone(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(100);
  }
  return false;
}
