import { Client, type ClientChannel, type ServerHostKeyAlgorithm } from 'ssh2';
import { TaskFailure, type TaskLog } from '../executor';
import type { HostAddress } from './config';
import { hostKeyAlgorithms, type PinnedKey, verifyHostKey } from './known-hosts';
import { shellQuote } from './shell';

export interface SshCredentials {
  readonly user: string;
  readonly privateKey: string;
}

export interface OpenSessionOptions {
  readonly address: HostAddress;
  readonly credentials: SshCredentials;
  /** the keys known_hosts pins for this host and port */
  readonly pinnedKeys: readonly PinnedKey[];
  readonly connectTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly log: TaskLog;
}

export interface RunOptions {
  /** what the command does, for the log and for messages (`restart`) */
  readonly label: string;
  readonly timeoutMs: number;
}

export interface CommandResult {
  readonly exitCode: number;
  /** its standard output, the first 64 KiB */
  readonly stdout: string;
  /** the last lines of its output, for failure messages */
  readonly tail: string;
}

const SUPPORTED_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
  'ssh-dss',
];

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
]);

const TAIL_LINES = 20;
const CAPTURE_LIMIT = 64 * 1024;

/**
 * Runs the command in its own process group and, beside it, a watchdog reading the channel's
 * stdin: when the channel closes (the task was aborted or timed out, or the connection
 * dropped), the watchdog sees end of input and terminates the whole group (KILL after 2 s).
 * A command that ends by itself takes its watchdog with it.
 */
export const supervisedCommand = (command: string): string =>
  [
    'exec 3<&0 </dev/null',
    `setsid /bin/sh -c ${shellQuote(command)} &`,
    'command_pid=$!',
    `setsid /bin/sh -c 'cat >/dev/null; kill -TERM -"$1" 2>/dev/null; sleep 2; kill -KILL -"$1" 2>/dev/null' watchdog "$command_pid" <&3 >/dev/null 2>&1 &`,
    'watchdog_pid=$!',
    'exec 3<&-',
    'wait "$command_pid"',
    'status=$?',
    'kill -TERM -"$watchdog_pid" 2>/dev/null',
    'exit "$status"',
  ].join('\n');

/** Splits a stream's chunks into lines and logs each with the host in front. */
class HostLines {
  private pending = '';
  readonly tail: string[] = [];
  constructor(
    private readonly emit: (line: string) => void,
    private readonly prefix: string,
  ) {}
  push(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }
  flush(): void {
    if (this.pending !== '') this.line(this.pending);
    this.pending = '';
  }
  private line(line: string): void {
    this.emit(`${this.prefix}${line}\n`);
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }
}

const aborted = (address: HostAddress, doing: string): TaskFailure =>
  new TaskFailure('TaskAborted', `The task was aborted while ${doing} on ${address.name}`);

/** One SSH connection to one host, with pinned host keys, for the length of a task. */
export class SshSession {
  private lost: string | undefined;

  private constructor(
    readonly address: HostAddress,
    private readonly client: Client,
    private readonly signal: AbortSignal,
    private readonly log: TaskLog,
  ) {
    client.on('close', () => {
      this.lost ??= 'the connection closed';
    });
    client.on('error', (error) => {
      this.lost = error.message;
    });
  }

  static open(options: OpenSessionOptions): Promise<SshSession> {
    const { address, credentials, pinnedKeys, signal, log } = options;
    if (signal.aborted) return Promise.reject(aborted(address, 'connecting'));
    return new Promise((resolve, reject) => {
      const client = new Client();
      let verdict: ReturnType<typeof verifyHostKey> | undefined;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        outcome();
      };
      const onAbort = (): void => {
        client.destroy();
        settle(() => reject(aborted(address, 'connecting')));
      };
      signal.addEventListener('abort', onAbort, { once: true });

      client.once('ready', () => {
        settle(() => {
          log.info(`connected to ${address.name} as ${credentials.user}`);
          resolve(new SshSession(address, client, signal, log));
        });
      });
      client.on('error', (error: Error & { level?: string; code?: string }) => {
        client.destroy();
        settle(() => reject(connectFailure(address, error, verdict)));
      });
      client.once('close', () => {
        settle(() =>
          reject(
            new TaskFailure('HostUnreachable', `${address.name} closed the connection before SSH was ready`),
          ),
        );
      });

      const algorithms = hostKeyAlgorithms(pinnedKeys).filter((name): name is ServerHostKeyAlgorithm =>
        SUPPORTED_HOST_KEY_ALGORITHMS.some((supported) => supported === name),
      );
      try {
        client.connect({
          host: address.host,
          port: address.port,
          username: credentials.user,
          privateKey: credentials.privateKey,
          readyTimeout: options.connectTimeoutMs,
          keepaliveInterval: 15_000,
          ...(algorithms.length > 0 ? { algorithms: { serverHostKey: algorithms } } : {}),
          hostVerifier: (key: Buffer): boolean => {
            verdict = verifyHostKey(pinnedKeys, key);
            return verdict === 'pinned';
          },
        });
      } catch (error) {
        client.destroy();
        // ssh2 names the problem (`Cannot parse privateKey: …`) without quoting the key.
        const reason = error instanceof Error ? error.message : String(error);
        settle(() =>
          reject(new TaskFailure('InvalidPrivateKey', `The SSH private key is unusable: ${reason}`)),
        );
      }
    });
  }

  /**
   * Runs a command through the remote shell, streaming its output to the log. Resolves with
   * its exit code; rejects with TaskAborted or RemoteCommandTimedOut after closing the
   * channel, which ends the remote process (supervisedCommand).
   */
  run(command: string, options: RunOptions): Promise<CommandResult> {
    const { address, log, signal } = this;
    const doing = `running ${options.label}`;
    if (signal.aborted) return Promise.reject(aborted(address, doing));
    if (this.lost) return Promise.reject(this.connectionLost());
    log.info(`${address.name}: ${options.label}`);
    return new Promise((resolve, reject) => {
      const stdout = new HostLines((line) => log.output('stdout', line), `[${address.name}] `);
      const stderr = new HostLines((line) => log.output('stderr', line), `[${address.name}] `);
      let channel: ClientChannel | undefined;
      let exitCode: number | undefined;
      let captured = '';
      let settled = false;
      const stop = (failure: TaskFailure): void => {
        if (channel) {
          channel.signal('TERM');
          channel.close();
        }
        finish(() => reject(failure));
      };
      const onAbort = (): void => stop(aborted(address, doing));
      const onLost = (): void => finish(() => reject(this.connectionLost()));
      const timer = setTimeout(
        () =>
          stop(
            new TaskFailure(
              'RemoteCommandTimedOut',
              `${options.label} on ${address.name} did not finish within ${Math.round(options.timeoutMs / 1000)} s`,
            ),
          ),
        options.timeoutMs,
      );
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.client.removeListener('close', onLost);
        stdout.flush();
        stderr.flush();
        outcome();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.client.once('close', onLost);

      this.client.exec(supervisedCommand(command), (error, opened) => {
        if (error) {
          finish(() =>
            reject(
              new TaskFailure(
                'HostUnreachable',
                `${address.name} refused to run a command: ${error.message}`,
              ),
            ),
          );
          return;
        }
        channel = opened;
        if (settled) {
          opened.close();
          return;
        }
        opened.on('data', (chunk: Buffer) => {
          const text = chunk.toString('utf8');
          if (captured.length < CAPTURE_LIMIT) captured += text.slice(0, CAPTURE_LIMIT - captured.length);
          stdout.push(text);
        });
        opened.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
        opened.on('exit', (code: number | null, signalName?: string) => {
          exitCode = typeof code === 'number' ? code : signalName ? 128 : 255;
        });
        opened.on('close', () => {
          finish(() =>
            resolve({
              exitCode: exitCode ?? 255,
              stdout: captured,
              tail: [...stdout.tail, ...stderr.tail].join('\n'),
            }),
          );
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }

  private connectionLost(): TaskFailure {
    return new TaskFailure(
      'HostUnreachable',
      `The connection to ${this.address.name} was lost (${this.lost})`,
    );
  }
}

function connectFailure(
  address: HostAddress,
  error: Error & { level?: string; code?: string },
  verdict: ReturnType<typeof verifyHostKey> | undefined,
): TaskFailure {
  const where = `${address.host}:${address.port}`;
  if (verdict === 'unknown') {
    return new TaskFailure(
      'HostKeyMismatch',
      `No host key is pinned for ${address.name} (${where}) in known_hosts`,
    );
  }
  if (verdict === 'changed') {
    return new TaskFailure(
      'HostKeyMismatch',
      `The host key of ${address.name} (${where}) differs from the one pinned in known_hosts: it was replaced, or someone is in between`,
    );
  }
  if (verdict === 'revoked') {
    return new TaskFailure('HostKeyMismatch', `${address.name} (${where}) presented a revoked host key`);
  }
  if (error.level === 'client-authentication') {
    return new TaskFailure('AuthenticationFailed', `${address.name} refused the SSH key (${where})`);
  }
  if (error.level === 'client-timeout') {
    return new TaskFailure('HostUnreachable', `${address.name} (${where}) did not answer in time`);
  }
  if (error.code && UNREACHABLE_CODES.has(error.code)) {
    return new TaskFailure('HostUnreachable', `${address.name} (${where}) is unreachable (${error.code})`);
  }
  return new TaskFailure('SshConnectionFailed', `SSH to ${address.name} (${where}) failed: ${error.message}`);
}
