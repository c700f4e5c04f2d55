import { dirname, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError, loadAgentConfig } from './config/agent-config';
import { SecretsManagerCredentialsStore } from './credentials/credentials-store';
import { builtinExecutors } from './executors/builtin';
import { loadExecutorModules } from './executors/modules';
import { DynamoDbTaskLogSink } from './logs/task-log-sink';
import { DeployAgent } from './runtime/deploy-agent';
import { jsonLogger } from './runtime/logger';

/**
 * `deploy-agent --config <file>` (`npm run agent -- --config <file>`): see docs/agent.md.
 * Exit codes: 0 after SIGTERM/SIGINT (drained), 2 for a wrong command line or config, 1 when
 * it cannot start.
 */

const USAGE = 'usage: deploy-agent --config <file.yaml|file.json>';

function fail(message: string, code: number): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

function configPath(argv: readonly string[]): string {
  const index = argv.findIndex((argument) => argument === '--config' || argument.startsWith('--config='));
  const argument = argv[index];
  if (index === -1 || argument === undefined) fail(`--config is required (${USAGE})`, 2);
  const value = argument.includes('=') ? argument.slice(argument.indexOf('=') + 1) : argv[index + 1];
  if (value === undefined || value === '') fail(`--config needs a file (${USAGE})`, 2);
  return value;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const file = resolve(configPath(argv));
  let config: ReturnType<typeof loadAgentConfig>;
  try {
    config = loadAgentConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
  const log = jsonLogger(undefined, config.log_level);
  const executors = builtinExecutors(config);
  try {
    await loadExecutorModules(executors, config.executor_modules, dirname(file));
  } catch (error) {
    fail(
      `config executor_modules: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      2,
    );
  }

  const sqs = new SQSClient({ region: config.queue.region, ...endpoint(config.queue.endpoint) });
  const sfn = new SFNClient({
    region: config.step_functions.region ?? config.queue.region,
    ...endpoint(config.step_functions.endpoint),
  });
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: config.task_logs.region ?? config.queue.region,
      ...endpoint(config.task_logs.endpoint),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const stored = config.stored_credentials;
  const secrets = stored
    ? new SecretsManagerClient({ region: stored.region ?? config.queue.region, ...endpoint(stored.endpoint) })
    : undefined;
  const agent = new DeployAgent({
    config,
    ...(stored && secrets
      ? {
          credentialsStore: new SecretsManagerCredentialsStore(
            secrets,
            stored.secret_prefix,
            dynamo,
            config.task_logs.table,
          ),
        }
      : {}),
    sqs,
    sfn,
    executors,
    logSink: new DynamoDbTaskLogSink(dynamo, config.task_logs.table, config.task_logs.retention_days),
    log,
  });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log('warn', `${signal} again: failing running tasks now`);
      agent.abortNow();
      return;
    }
    stopping = true;
    log('info', `${signal}: stopping`);
    void agent
      .stop()
      .then(() => {
        sqs.destroy();
        sfn.destroy();
        dynamo.destroy();
        secrets?.destroy();
        process.exit(0);
      })
      .catch((error: unknown) => {
        log('error', 'stopping failed', { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await agent.start();
  } catch (error) {
    fail(`cannot start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, 1);
  }
}

const endpoint = (url: string | undefined) => (url === undefined ? {} : { endpoint: url });

main().catch((error: unknown) =>
  fail(error instanceof Error ? error.message.split('\n')[0] || error.name : String(error), 1),
);
