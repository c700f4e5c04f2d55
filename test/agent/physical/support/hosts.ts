import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * Real SSH hosts for the physical executors' tests. Each host is a network namespace with a
 * veth pair on its own /30 of 10.213.x.0/24 (no route leads anywhere else), running Debian's
 * sshd with a generated host key; a generated client key is authorised for root. Each host's
 * sshd also runs in its own mount namespace, where a directory of the host is bound over the
 * same path (`mountPoint`) and an empty one over root's home: both hosts have a release root
 * at the same path, backed by their own files (readable from here under `host.files`).
 *
 * Without CAP_NET_ADMIN (no namespaces), the hosts are sshd on 127.0.0.2 and 127.0.0.3.
 */

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const NAME_PREFIX = 'dmp';

export type HostsMode = 'netns' | 'loopback';

export interface TestHost {
  /** as the environment config names it: `10.213.7.2`, or `127.0.0.2:40022` */
  readonly name: string;
  /** the address its sshd and applications listen on */
  readonly address: string;
  readonly sshPort: number;
  /** this host's files at `mountPoint`, seen from the test */
  readonly files: string;
  /** its pinned known_hosts line */
  readonly knownHostsLine: string;
  stopSshd(): Promise<void>;
  /** starts sshd again; with `newHostKey`, with a freshly generated host key */
  startSshd(options?: { newHostKey?: boolean }): Promise<void>;
}

export interface TestHosts {
  readonly mode: HostsMode;
  readonly hosts: readonly TestHost[];
  /** the same path on every host, backed by each host's own directory */
  readonly mountPoint: string;
  /** a directory every host and the test share (the test app's event log lives there) */
  readonly shared: string;
  readonly user: string;
  readonly privateKeyPath: string;
  readonly knownHosts: readonly string[];
  /** an address:port of the hosts' network where nothing listens */
  readonly deadAddress: string;
  cleanup(): Promise<void>;
}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Namespaces of earlier runs whose test process is gone (`dmp-<pid>-<run>-<n>`). */
async function removeLeftovers(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']).catch(() => ({ stdout: '' }));
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = new RegExp(`^${NAME_PREFIX}-(\\d+)-`).exec(name)?.[1];
    if (!owner || processAlive(Number(owner))) continue;
    await killNamespaceProcesses(name);
    await run('ip', ['netns', 'delete', name]).catch(() => undefined);
  }
}

async function killNamespaceProcesses(namespace: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'pids', namespace]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Every process in one of these mount namespaces (an sshd's, so its sessions and apps too). */
async function killMountNamespaceProcesses(namespaces: ReadonlySet<string>): Promise<void> {
  if (namespaces.size === 0) return;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const namespace = await readlink(`/proc/${entry}/ns/mnt`).catch(() => '');
    if (!namespaces.has(namespace)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function canMakeNamespaces(probe: string): Promise<boolean> {
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'delete', probe]);
    return true;
  } catch {
    return false;
  }
}

/** A third octet for 10.213.x.0/24 that no interface here uses. */
async function freeSubnet(): Promise<number> {
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show']);
  for (;;) {
    const octet = randomBytes(1)[0] ?? 0;
    if (!stdout.includes(`10.213.${octet}.`)) return octet;
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const bound = server.address();
      server.close(() =>
        typeof bound === 'object' && bound ? resolve(bound.port) : reject(new Error('no port')),
      );
    });
  });

async function waitForPort(
  address: string,
  port: number,
  sshd: ChildProcess,
  log: () => string,
): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (sshd.exitCode !== null) throw new Error(`sshd on ${address}:${port} exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`sshd on ${address}:${port} does not listen: ${log()}`);
}

async function generateKey(path: string, comment: string): Promise<string> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return (await readFile(`${path}.pub`, 'utf8')).trim();
}

export async function startTestHosts(count = 2): Promise<TestHosts> {
  await removeLeftovers();
  const runId = `${process.pid}-${randomBytes(2).toString('hex')}`;
  const shortId = randomBytes(3).toString('hex');
  // PHYSICAL_TEST_HOSTS=loopback runs the fallback where namespaces could be made too.
  const mode: HostsMode =
    process.env.PHYSICAL_TEST_HOSTS !== 'loopback' &&
    (await canMakeNamespaces(`${NAME_PREFIX}-${runId}-probe`))
      ? 'netns'
      : 'loopback';
  if (mode === 'loopback') {
    const reason =
      process.env.PHYSICAL_TEST_HOSTS === 'loopback'
        ? 'PHYSICAL_TEST_HOSTS=loopback'
        : 'network namespaces cannot be made here (no CAP_NET_ADMIN)';
    console.warn(`physical executor tests: ${reason}; the test hosts are sshd on 127.0.0.2 and 127.0.0.3`);
  }
  const base = await mkdtemp(join(tmpdir(), `dm-physical-${runId}-`));
  const mountPoint = join(base, 'mnt');
  const shared = join(base, 'shared');
  await Promise.all([mkdir(mountPoint), mkdir(shared)]);
  // sshd refuses to start without its privilege separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const privateKeyPath = join(base, 'client_key');
  const clientPublicKey = await generateKey(privateKeyPath, 'deploy-agent-test');
  const authorizedKeys = join(base, 'authorized_keys');
  await writeFile(authorizedKeys, `${clientPublicKey}\n`, { mode: 0o600 });

  const subnet = mode === 'netns' ? await freeSubnet() : 0;
  const namespaces: string[] = [];
  const mountNamespaces = new Set<string>();
  const hosts: ManagedHost[] = [];
  const cleanup = async (): Promise<void> => {
    for (const host of hosts) await host.stopSshd();
    await killMountNamespaceProcesses(mountNamespaces);
    for (const namespace of namespaces) {
      await killNamespaceProcesses(namespace);
      await run('ip', ['netns', 'delete', namespace]).catch(() => undefined);
    }
    await rm(base, { recursive: true, force: true });
  };

  try {
    for (let index = 0; index < count; index += 1) {
      const dir = join(base, `host-${index}`);
      const files = join(dir, 'files');
      const home = join(dir, 'home');
      await Promise.all([mkdir(files, { recursive: true }), mkdir(home, { recursive: true })]);
      let address: string;
      let sshPort: number;
      let launcher: string[];
      if (mode === 'netns') {
        const namespace = `${NAME_PREFIX}-${runId}-${index}`;
        const outside = `${NAME_PREFIX}${shortId}${index}o`;
        const inside = `${NAME_PREFIX}${shortId}${index}i`;
        const hostSide = `10.213.${subnet}.${4 * index + 1}`;
        address = `10.213.${subnet}.${4 * index + 2}`;
        sshPort = 22;
        await run('ip', ['netns', 'add', namespace]);
        namespaces.push(namespace);
        await run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
        await run('ip', ['link', 'set', inside, 'netns', namespace]);
        await run('ip', ['addr', 'add', `${hostSide}/30`, 'dev', outside]);
        await run('ip', ['link', 'set', outside, 'up']);
        await run('ip', ['-n', namespace, 'addr', 'add', `${address}/30`, 'dev', inside]);
        await run('ip', ['-n', namespace, 'link', 'set', inside, 'up']);
        await run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
        launcher = ['ip', 'netns', 'exec', namespace];
      } else {
        address = `127.0.0.${2 + index}`;
        sshPort = await freePort();
        launcher = ['unshare', '--mount', '--propagation', 'private'];
      }
      const host = new ManagedHost({
        dir,
        files,
        home,
        address,
        sshPort,
        launcher,
        mountPoint,
        authorizedKeys,
        mountNamespaces,
      });
      await host.startSshd();
      hosts.push(host);
    }
  } catch (error) {
    await cleanup();
    throw error;
  }

  return {
    mode,
    hosts,
    mountPoint,
    shared,
    user: 'root',
    privateKeyPath,
    get knownHosts() {
      return hosts.map((host) => host.knownHostsLine);
    },
    deadAddress: `${hosts[0]?.address ?? '127.0.0.2'}:2`,
    cleanup,
  };
}

interface HostSetup {
  readonly dir: string;
  readonly files: string;
  readonly home: string;
  readonly address: string;
  readonly sshPort: number;
  readonly launcher: readonly string[];
  readonly mountPoint: string;
  readonly authorizedKeys: string;
  readonly mountNamespaces: Set<string>;
}

class ManagedHost implements TestHost {
  readonly name: string;
  knownHostsLine = '';
  private sshd: ChildProcess | undefined;
  private pinnedKey = '';
  private generation = 0;

  constructor(private readonly setup: HostSetup) {
    this.name = setup.sshPort === 22 ? setup.address : `${setup.address}:${setup.sshPort}`;
  }

  get address(): string {
    return this.setup.address;
  }
  get sshPort(): number {
    return this.setup.sshPort;
  }
  get files(): string {
    return this.setup.files;
  }

  /** starts sshd with the pinned host key (generated on the first start), or a new one */
  async startSshd(options: { newHostKey?: boolean } = {}): Promise<void> {
    const { dir, address, sshPort, launcher, mountPoint, files, home, authorizedKeys } = this.setup;
    await this.stopSshd();
    let hostKey = this.pinnedKey;
    if (options.newHostKey || hostKey === '') {
      this.generation += 1;
      hostKey = join(dir, `host_key_${this.generation}`);
      const [type, key] = (await generateKey(hostKey, `test-host-${address}`)).split(' ');
      if (this.pinnedKey === '') {
        this.pinnedKey = hostKey;
        this.knownHostsLine = `${sshPort === 22 ? address : `[${address}]:${sshPort}`} ${type} ${key}`;
      }
    }
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `ListenAddress ${address}:${sshPort}`,
        `HostKey ${hostKey}`,
        'PidFile none',
        `AuthorizedKeysFile ${authorizedKeys}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'MaxStartups 50',
        'MaxSessions 50',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const script = 'mount --bind "$1" "$2" && mount --bind "$3" "$4" && exec "$5" -D -e -f "$6"';
    const [command = 'sh', ...args] = [
      ...launcher,
      'sh',
      '-c',
      script,
      'sshd-launcher',
      files,
      mountPoint,
      home,
      homedir(),
      SSHD,
      config,
    ];
    const sshd = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    sshd.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    this.sshd = sshd;
    await waitForPort(address, sshPort, sshd, () => log);
    if (sshd.pid) this.setup.mountNamespaces.add(await readlink(`/proc/${sshd.pid}/ns/mnt`));
  }

  async stopSshd(): Promise<void> {
    const sshd = this.sshd;
    this.sshd = undefined;
    if (!sshd || sshd.exitCode !== null || sshd.signalCode !== null) return;
    const exited = new Promise((resolve) => sshd.once('exit', resolve));
    sshd.kill('SIGTERM');
    await exited;
  }
}
