import { signToken } from './auth/tokens';
import { type ConsoleBuild, ensureConsoleBuild } from './console/build';
import { PortInUseError } from './http/server';
import {
  DEFAULT_PORT,
  isStartAborted,
  type LocalStack,
  LocalStackError,
  type StackCrash,
  startLocalStack,
} from './stack';

/**
 * `npm start`: the whole service on this machine (see docs/local-runtime.md).
 *
 *   PORT=3000            API port (0: any free port; the banner says which)
 *   HOST=127.0.0.1       interface to bind
 *   DATA_DIR=./.local/db keep DynamoDB data on disk (in memory otherwise)
 *   AGENT=off            no simulated deploy agent
 *   CONSOLE_DIR=dir      the console build to serve at / (default console/dist, built if missing)
 *   AGENT_CONCURRENCY=16 tasks the agent works on at once
 *   QUIET=1              no access log / agent lines
 *
 * Exit codes: 0 after Ctrl-C / SIGTERM / SIGHUP (everything stopped, the Java process
 * included, even in the middle of the start-up); 1 when it cannot start or a part stops on
 * its own, with a one-line `error: …` on stderr that says what to do.
 */

const STOP_DEADLINE_MS = 10_000;
/** Ctrl-C reaches the whole process group, Java included: our own signal handler must win. */
const SIGNAL_GRACE_MS = 250;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

const firstLine = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] || (error instanceof Error ? error.name : 'unknown error');
};

function integerFrom(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

const isSet = (name: string) => {
  const value = process.env[name];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
};
const quiet = isSet('QUIET');
const say = (line: string) => process.stdout.write(`${line}\n`);
const detail = (line: string) => {
  if (!quiet) say(line);
};

async function banner(stack: LocalStack, dataDir: string | undefined, built: ConsoleBuild): Promise<string> {
  const token = await signToken(stack.keys, { email: 'admin@example.com', groups: ['admins'] });
  const body = JSON.stringify({
    git_tag: 'v1.0.0',
    git_commit: 'abc123def456',
    repository: 'https://github.com/org/repo',
    description: 'Release version 1.0.0',
  });
  const interrupted = stack.interruptedDeployments.length;
  return [
    '',
    `deploy-manager local stack ready on ${stack.baseUrl}`,
    `  console    ${built.ready ? `${stack.baseUrl}/` : `not built: ${built.reason}`}`,
    `  API        ${stack.baseUrl}/api/v1`,
    `  DynamoDB   ${dataDir === undefined ? 'in memory' : `on disk in ${dataDir}`} (table ${stack.tableName})`,
    `  agent      ${stack.agent === undefined ? 'off (connect your own to the task queue)' : 'on (simulated)'}`,
    ...(stack.agent === undefined
      ? [
          `  SQS        ${stack.endpoints.sqs} (task queue ${stack.taskQueueUrl})`,
          `  SFN        ${stack.endpoints.stepFunctions}`,
          `  logs       ${stack.endpoints.dynamoDb} (table ${stack.tableName}, task logs under TASKLOG#)`,
          `  secrets    ${stack.endpoints.secretsManager} (Secrets Manager; stored credentials under ${stack.credentialsPrefix})`,
        ]
      : []),
    ...(interrupted > 0
      ? [
          `  note       ${interrupted} deployment(s) left unfinished by the last stop are now failed; POST /api/v1/tasks/{id}/retry resumes one`,
        ]
      : []),
    '',
    'Admin token (groups admins, valid 12 h; more with `npm run -s token -- --email you@example.com --groups deployers`):',
    token,
    '',
    'Try:',
    `curl -s -X POST ${stack.baseUrl}/api/v1/versions \\`,
    `  -H 'Authorization: Bearer ${token}' \\`,
    `  -H 'content-type: application/json' \\`,
    `  -d '${body}'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const port = integerFrom('PORT', DEFAULT_PORT, 0, 65_535);
  const concurrency = integerFrom('AGENT_CONCURRENCY', 16, 1, 256);
  const agentOff = ['off', '0', 'false', 'no'].includes((process.env.AGENT ?? '').toLowerCase());
  const dataDir =
    process.env.DATA_DIR === undefined || process.env.DATA_DIR === '' ? undefined : process.env.DATA_DIR;

  const starting = new AbortController();
  let stack: LocalStack | undefined;
  /** set once something asked to stop: the code to exit with when everything is down */
  let exitCode: number | undefined;

  const stopThenExit = (reason: string, code: number) => {
    if (exitCode !== undefined) return;
    exitCode = code;
    say(reason);
    // Stopping must not hang: past the deadline, exit anyway (an exit hook kills Java).
    setTimeout(() => {
      process.stderr.write('error: the local stack did not stop in time; exiting\n');
      process.exit(code === 0 ? 1 : code);
    }, STOP_DEADLINE_MS).unref();
    if (stack === undefined) {
      // Still starting: the start-up stops what it started, then main() exits.
      starting.abort();
      return;
    }
    void stack
      .stop()
      .catch((error: unknown) => process.stderr.write(`error while stopping: ${firstLine(error)}\n`))
      .finally(() => process.exit(code));
  };

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A second Ctrl-C: do not wait any longer (the exit hook still kills Java).
      if (exitCode !== undefined) process.exit(130);
      stopThenExit(`${signal}: stopping the local stack…`, 0);
    });
  }
  const crash = (error: unknown) => {
    process.stderr.write(`error: the local stack crashed: ${firstLine(error)}\n`);
    stopThenExit('stopping the local stack…', 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const consoleBuild = await ensureConsoleBuild(process.env.CONSOLE_DIR || undefined, detail);
  if (!consoleBuild.ready) say(`console: ${consoleBuild.reason}`);
  try {
    stack = await startLocalStack({
      ...(consoleBuild.ready ? { consoleDir: consoleBuild.distDir } : {}),
      port,
      ...(process.env.HOST ? { host: process.env.HOST } : {}),
      ...(dataDir === undefined ? {} : { dataDir }),
      agent: agentOff ? false : { concurrency },
      log: detail,
      onRequest: (entry) =>
        detail(`${entry.method} ${entry.path} ${entry.status} ${entry.durationMs.toFixed(1)} ms`),
      signal: starting.signal,
    });
  } catch (error) {
    // A Ctrl-C also hits Java, which may die before our own handler has run: give it a moment.
    if (exitCode === undefined) await new Promise((resolve) => setTimeout(resolve, SIGNAL_GRACE_MS));
    // Asked to stop while starting: what had started is stopped already.
    if (exitCode !== undefined) process.exit(exitCode);
    if (isStartAborted(error)) process.exit(0);
    if (error instanceof PortInUseError || error instanceof LocalStackError) fail(error.message);
    fail(firstLine(error));
  }
  if (exitCode !== undefined) {
    // The signal came as the start-up finished.
    await stack.stop().catch(() => undefined);
    process.exit(exitCode);
  }
  say(await banner(stack, dataDir, consoleBuild));
  const crashed: StackCrash = await stack.crashed;
  await new Promise((resolve) => setTimeout(resolve, SIGNAL_GRACE_MS));
  if (exitCode !== undefined) return;
  process.stderr.write(
    `error: ${crashed.part} stopped unexpectedly: ${crashed.message}; stopping everything (start it again with npm start)\n`,
  );
  stopThenExit(`stopping the local stack because ${crashed.part} stopped`, 1);
}

void main();
