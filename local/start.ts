import { signToken } from './auth/tokens';
import { PortInUseError } from './http/server';
import { DEFAULT_PORT, type LocalStack, LocalStackError, startLocalStack } from './stack';

/**
 * `npm start`: the whole service on this machine (see docs/local-runtime.md).
 *
 *   PORT=3000            API port
 *   HOST=127.0.0.1       interface to bind
 *   DATA_DIR=./.local/db keep DynamoDB data on disk (in memory otherwise)
 *   AGENT=off            no simulated deploy agent
 *   AGENT_CONCURRENCY=16 tasks the agent works on at once
 *   QUIET=1              no access log / agent lines
 */

const STOP_DEADLINE_MS = 10_000;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

function integerFrom(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

const quiet = process.env.QUIET !== undefined && process.env.QUIET !== '' && process.env.QUIET !== '0';
const say = (line: string) => process.stdout.write(`${line}\n`);
const detail = (line: string) => {
  if (!quiet) say(line);
};

async function banner(stack: LocalStack, dataDir: string | undefined): Promise<string> {
  const token = await signToken(stack.keys, { email: 'admin@example.com', groups: ['admins'] });
  const body = JSON.stringify({
    git_tag: 'v1.0.0',
    git_commit: 'abc123def456',
    repository: 'https://github.com/org/repo',
    description: 'Release version 1.0.0',
  });
  return [
    '',
    `deploy-manager local stack ready on ${stack.baseUrl}`,
    `  API        ${stack.baseUrl}/api/v1`,
    `  DynamoDB   ${dataDir === undefined ? 'in memory' : `on disk in ${dataDir}`} (table ${stack.tableName})`,
    `  agent      ${stack.agent === undefined ? 'off' : 'on (simulated)'}`,
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
  ].join('\n');
}

async function main(): Promise<void> {
  const port = integerFrom('PORT', DEFAULT_PORT, 0, 65_535);
  const concurrency = integerFrom('AGENT_CONCURRENCY', 16, 1, 256);
  const agentOff = ['off', '0', 'false', 'no'].includes((process.env.AGENT ?? '').toLowerCase());
  const dataDir =
    process.env.DATA_DIR === undefined || process.env.DATA_DIR === '' ? undefined : process.env.DATA_DIR;

  let stack: LocalStack | undefined;
  let shuttingDown = false;
  const shutdown = async (reason: string, exitCode: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(reason);
    // Stopping must not hang: past the deadline, exit anyway (the exit hook kills Java).
    setTimeout(() => {
      process.stderr.write('error: the local stack did not stop in time; exiting\n');
      process.exit(exitCode === 0 ? 1 : exitCode);
    }, STOP_DEADLINE_MS).unref();
    await stack
      ?.stop()
      .catch((error: unknown) => process.stderr.write(`error while stopping: ${String(error)}\n`));
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        // A second Ctrl-C: do not wait any longer.
        process.exit(130);
      }
      void shutdown(`${signal}: stopping the local stack…`, 0);
    });
  }
  const crash = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: the local stack crashed: ${message}\n`);
    void shutdown('stopping the local stack…', 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  try {
    stack = await startLocalStack({
      port,
      ...(process.env.HOST ? { host: process.env.HOST } : {}),
      ...(dataDir === undefined ? {} : { dataDir }),
      agent: agentOff ? false : { concurrency },
      log: detail,
      onRequest: (entry) =>
        detail(`${entry.method} ${entry.path} ${entry.status} ${entry.durationMs.toFixed(1)} ms`),
    });
  } catch (error) {
    if (shuttingDown) return;
    if (error instanceof PortInUseError || error instanceof LocalStackError) fail(error.message);
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
    fail(message);
  }
  if (shuttingDown) {
    await stack.stop();
    return;
  }
  say(await banner(stack, dataDir));
  const crashed = await stack.crashed;
  // Ctrl-C reaches the whole process group, Java included: let our own signal handler win.
  await new Promise((resolve) => setTimeout(resolve, 250));
  if (shuttingDown) return;
  process.stderr.write(`error: ${crashed.part} stopped unexpectedly: ${crashed.message}\n`);
  await shutdown(`stopping the local stack because ${crashed.part} stopped`, 1);
}

void main();
