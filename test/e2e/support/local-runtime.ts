import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isRunning, type ProcessInfo, processTree, waitUntil } from './processes';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const execFileAsync = promisify(execFile);

/**
 * How the runtime is launched: `npm start` exactly as the README says, or what the npm script
 * runs (`node --import tsx local/start.ts`) directly with this Node, which needs no PATH at all.
 */
export type Launcher = 'npm' | 'tsx';

export interface LaunchOptions {
  readonly launcher?: Launcher;
  /** merged over this process's environment; undefined removes a variable */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Ready {
  readonly baseUrl: string;
  readonly apiUrl: string;
  readonly port: number;
  /** the admin token the banner prints */
  readonly adminToken: string;
}

const READY_LINE = /deploy-manager local stack ready on (http:\/\/[^\s]+)/;
const TOKEN_LINE = /^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m;

function environmentOf(overrides: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete environment[name];
    else environment[name] = value;
  }
  return environment;
}

/**
 * The local runtime as a child process in its own process group, so that a test can press
 * "Ctrl-C" (SIGINT to the whole group, as a terminal does) or signal one process, and can
 * see every process the runtime started.
 */
export class LocalRuntime {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  #stdout = '';
  #stderr = '';
  /** every pid seen in the tree while it ran, Java included */
  readonly #seen = new Map<number, ProcessInfo>();

  constructor(options: LaunchOptions = {}) {
    const launcher = options.launcher ?? 'tsx';
    const [command, args] =
      launcher === 'npm' ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'local/start.ts']];
    this.child = spawn(command, args as string[], {
      cwd: REPO_ROOT,
      env: environmentOf({ QUIET: '1', PORT: '0', ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (this.child.pid === undefined) throw new Error(`could not spawn ${command}`);
    this.pid = this.child.pid;
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.#stdout += chunk.toString();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The processes of the runtime now; remembered, so `leftovers()` can check them all later. */
  tree(): ProcessInfo[] {
    const tree = processTree(this.pid);
    for (const info of tree) this.#seen.set(info.pid, info);
    return tree;
  }

  /** Processes seen in the tree that still run. */
  leftovers(): ProcessInfo[] {
    this.tree();
    return [...this.#seen.values()].filter((info) => isRunning(info.pid));
  }

  /** Resolves with the URL and token of the banner; rejects if the runtime exits first. */
  async ready(timeoutMs = 90_000): Promise<Ready> {
    await waitUntil(
      'the banner of the local stack',
      () => {
        if (this.hasExited) {
          throw new Error(`the runtime exited before it was ready:\n${this.#stderr}\n${this.#stdout}`);
        }
        this.tree();
        return READY_LINE.test(this.#stdout) && TOKEN_LINE.test(this.#stdout);
      },
      timeoutMs,
      100,
    );
    const baseUrl = READY_LINE.exec(this.#stdout)?.[1];
    const adminToken = TOKEN_LINE.exec(this.#stdout)?.[1];
    if (baseUrl === undefined || adminToken === undefined) throw new Error('banner without URL or token');
    return { baseUrl, apiUrl: `${baseUrl}/api/v1`, port: Number(new URL(baseUrl).port), adminToken };
  }

  /** Ctrl-C in a terminal: the signal goes to every process of the foreground group. */
  signalGroup(signal: NodeJS.Signals): void {
    this.tree();
    process.kill(-this.pid, signal);
  }

  /** `kill -TERM <pid>`: the signal reaches the launched process only. */
  signal(signal: NodeJS.Signals): void {
    this.tree();
    this.child.kill(signal);
  }

  /** Resolves with the exit; rejects when it has not exited in time. */
  async exit(timeoutMs = 30_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the runtime did not exit within ${timeoutMs} ms:\n${this.#stderr}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last resort for afterAll: whatever a failed test left, SIGKILL the group and every process seen. */
  async destroy(): Promise<void> {
    const remaining = this.leftovers();
    if (!this.hasExited) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    for (const info of remaining) {
      try {
        process.kill(info.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (!this.hasExited) await this.exit(10_000).catch(() => undefined);
  }
}

/** Runs the runtime until it exits by itself (for start-up failures). */
export async function runUntilExit(
  options: LaunchOptions,
  timeoutMs = 60_000,
): Promise<Exit & { stdout: string; stderr: string; runtime: LocalRuntime }> {
  const runtime = new LocalRuntime(options);
  try {
    const exit = await runtime.exit(timeoutMs);
    return { ...exit, stdout: runtime.stdout, stderr: runtime.stderr, runtime };
  } catch (error) {
    await runtime.destroy();
    throw error;
  }
}

/** `npm run -s token -- --email … [--groups …]`, as a reader of the README would call it. */
export async function tokenFromCli(
  email: string,
  groups: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const args = ['run', '-s', 'token', '--', '--email', email];
  if (groups.length > 0) args.push('--groups', groups.join(','));
  const { stdout } = await execFileAsync('npm', args, { cwd: REPO_ROOT, env: environmentOf(env) });
  return stdout.trim();
}
