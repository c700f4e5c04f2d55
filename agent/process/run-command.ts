import { spawn } from 'node:child_process';
import type { TaskLog } from '../executors/executor';

/**
 * Runs one command for an executor: an argv array (no shell unless `shell` says so), in a
 * process group of its own so that an abort, a timeout or the end of the task kills every
 * process it started (SIGTERM to the group, SIGKILL `killGraceMs` later), with a scrubbed
 * environment: only PATH, HOME and LANG of the agent's, plus what the executor passes. The
 * agent's own AWS credentials never reach a command.
 */
export interface CommandOptions {
  /** program and arguments; with `shell: true`, argv[0] is a line for `/bin/sh -c` */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** added to PATH, HOME and LANG (and override them) */
  readonly env?: Readonly<Record<string, string>>;
  /** run argv[0] through `/bin/sh -c`; only when the step asks for a shell line */
  readonly shell?: boolean;
  /** the group is killed after this long; the result then says `timedOut` */
  readonly timeoutMs?: number;
  /** the task's signal: aborting it kills the group */
  readonly signal?: AbortSignal;
  /** stdout/stderr go here as they come; the command line is logged first */
  readonly log?: TaskLog;
  /** how the command is shown in the log (e.g. with a URL's credentials cut); argv when absent */
  readonly display?: string;
  /** keep stdout (up to 1 MiB) in the result, e.g. for `git rev-parse HEAD` */
  readonly captureStdout?: boolean;
  /** between SIGTERM and SIGKILL */
  readonly killGraceMs?: number;
  /** written to the command's stdin, then closed; stdin is empty otherwise */
  readonly input?: string;
}

export interface CommandResult {
  /** null when a signal ended it */
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** the task's signal was aborted while it ran */
  readonly aborted: boolean;
  readonly stdout: string;
  /** the last few KiB of stderr, for error messages */
  readonly stderrTail: string;
  readonly ok: boolean;
}

export const DEFAULT_KILL_GRACE_MS = 3_000;
const CAPTURE_LIMIT = 1024 * 1024;
const TAIL_LIMIT = 4 * 1024;
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG'] as const;

export function scrubbedEnvironment(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) environment[name] = value;
  }
  return { ...environment, ...extra };
}

const quote = (argument: string) =>
  /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", "'\\''")}'`;
export const displayCommand = (argv: readonly string[]): string => argv.map(quote).join(' ');

export function runCommand(options: CommandOptions): Promise<CommandResult> {
  const [program, ...args] = options.shell ? ['/bin/sh', '-c', options.argv.join(' ')] : options.argv;
  if (program === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  options.log?.info(`$ ${options.display ?? displayCommand(options.argv)}`);
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;

  return new Promise<CommandResult>((resolve) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: scrubbedEnvironment(options.env),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderrTail = '';
    let timedOut = false;
    let aborted = false;
    let spawnError: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const terminate = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), killGraceMs);
    };
    const onAbort = () => {
      aborted = true;
      options.log?.info(`stopping the command: ${reasonOf(options.signal)}`);
      terminate();
    };
    const timeout =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            options.log?.info(`the command timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)} s`);
            terminate();
          }, options.timeoutMs);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      options.log?.output('stdout', chunk);
      if (options.captureStdout && stdout.length < CAPTURE_LIMIT)
        stdout += chunk.slice(0, CAPTURE_LIMIT - stdout.length);
    });
    child.stderr.on('data', (chunk: string) => {
      options.log?.output('stderr', chunk);
      stderrTail = (stderrTail + chunk).slice(-TAIL_LIMIT);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('exit', () => {
      // The command is done; whatever it left running in its group goes with it.
      if (!timedOut && !aborted) killGroup('SIGKILL');
    });
    child.on('close', (exitCode, exitSignal) => {
      if (timeout) clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (spawnError) stderrTail = `${stderrTail}${spawnError.message}`;
      resolve({
        exitCode: spawnError ? null : exitCode,
        exitSignal,
        timedOut,
        aborted,
        stdout,
        stderrTail,
        ok: spawnError === undefined && exitCode === 0 && !timedOut && !aborted,
      });
    });
  });
}

function reasonOf(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'the task was stopped';
}

/** One line on why a command failed, for a TaskFailure cause. */
export function describeFailure(result: CommandResult, what: string): string {
  const how = result.timedOut
    ? 'timed out'
    : result.aborted
      ? 'was stopped'
      : result.exitCode === null
        ? `ended by ${result.exitSignal ?? 'a signal'}`
        : `exited with ${result.exitCode}`;
  const tail = result.stderrTail.trim().split('\n').slice(-5).join('\n');
  return tail ? `${what} ${how}: ${tail}` : `${what} ${how}`;
}
