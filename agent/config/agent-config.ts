import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { STORED_CREDENTIALS } from '../../lambdas/agent-protocol/stored-credentials';
import { AgentTarget } from './target';

/**
 * The agent's one config file (YAML or JSON), validated at start: a wrong file stops the
 * start with one line naming the field. docs/agent.md is the reference.
 */

const Region = z.string().min(1);
const Endpoint = z.url();

export const BuildahConfig = z.strictObject({
  /** `vfs` works everywhere, as root and in containers; `overlay` is faster where it is allowed */
  storage_driver: z.string().min(1).default('vfs'),
  /** image storage (`--root`); buildah's default when absent */
  root: z.string().min(1).optional(),
  /** run state (`--runroot`) */
  runroot: z.string().min(1).optional(),
  /** `chroot` needs no daemon and no user namespaces */
  isolation: z.enum(['chroot', 'oci', 'rootless']).default('chroot'),
  /** the buildah program */
  command: z.string().min(1).default('buildah'),
});
export type BuildahConfig = z.infer<typeof BuildahConfig>;

export const StoredCredentialsConfig = z.strictObject({
  /** the stack's `EnvironmentCredentialsPrefix`: secret `<prefix><environment id>` */
  secret_prefix: z.string().min(1).default(STORED_CREDENTIALS.defaultSecretPrefix),
  /** the queue's region when absent */
  region: Region.optional(),
  /** a local Secrets Manager (moto of `npm start`) */
  endpoint: Endpoint.optional(),
});
export type StoredCredentialsConfig = z.infer<typeof StoredCredentialsConfig>;

export const AgentConfig = z
  .strictObject({
    /** its JSON log on stdout; `debug` adds every received message's body (task tokens included) */
    log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** who this agent is in the credential access records; the host name when absent */
    agent_id: z
      .string()
      .min(1)
      .default(() => hostname()),
    queue: z.strictObject({
      /** the task queue's URL (the stack's `TaskQueueUrl` output; `npm start` with AGENT=off prints it) */
      url: z.url(),
      region: Region,
      /** a local SQS (fauxqs of `npm start`) */
      endpoint: Endpoint.optional(),
      /** long-poll wait; 20 s (the longest SQS allows) unless testing */
      wait_seconds: z.number().int().min(0).max(20).default(20),
    }),
    step_functions: z
      .strictObject({
        /** the queue's region when absent */
        region: Region.optional(),
        /** a local Step Functions (the stand-in of `npm start`) */
        endpoint: Endpoint.optional(),
      })
      .default({}),
    /** tasks worked on at the same time */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** checkouts, build contexts and the journal; the agent must own it */
    work_dir: z.string().min(1),
    task_logs: z.strictObject({
      /** the service's table (the stack's `TableName` output) */
      table: z.string().min(1),
      /** the queue's region when absent */
      region: Region.optional(),
      /** a local DynamoDB */
      endpoint: Endpoint.optional(),
      retention_days: z.number().int().min(1).max(3650).default(30),
      /** text kept per task attempt; past it the log says how much was dropped */
      max_bytes_per_attempt: z
        .number()
        .int()
        .min(1024)
        .default(5 * 1024 * 1024),
    }),
    /** on SIGTERM, running tasks get this long to finish before they fail with AgentShutdown */
    shutdown_grace_seconds: z.number().int().min(0).max(86_400).default(300),
    buildah: BuildahConfig.default({ storage_driver: 'vfs', isolation: 'chroot', command: 'buildah' }),
    /** a team's own executors: modules (paths relative to this file, or package names) default-exporting them */
    executor_modules: z.array(z.string().min(1)).default([]),
    /**
     * Reads an environment's stored credentials (docs/credentials.md) for a target the agent
     * holds none for. Absent: the agent uses only its own credentials.
     */
    stored_credentials: StoredCredentialsConfig.optional(),
    /** the environments this agent serves with its own credentials or settings */
    targets: z.array(AgentTarget).default([]),
  })
  .refine((config) => config.targets.length > 0 || config.stored_credentials !== undefined, {
    path: ['targets'],
    message: 'at least one target, unless the agent reads stored_credentials',
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const fieldPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`,
    '',
  );

/** Validates parsed config data; throws a ConfigError whose message is one line naming the field. */
export function parseAgentConfig(data: unknown): AgentConfig {
  const parsed = AgentConfig.safeParse(data, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined),
  });
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  if (issue === undefined) throw new ConfigError('config: invalid');
  const path = fieldPath(issue.path);
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}`
      : issue.message;
  throw new ConfigError(`config ${path === '' ? '(file)' : path}: ${message}`);
}

export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ConfigError(`config ${file}: cannot read it (${code})`);
  }
  let data: unknown;
  try {
    data = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new ConfigError(
      `config ${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'} (${first})`,
    );
  }
  return parseAgentConfig(data);
}

/** The target of an environment, by id or by name. */
export function targetFor(
  config: Pick<AgentConfig, 'targets'>,
  environment: { id: string; name?: string },
): AgentTarget | undefined {
  return (
    config.targets.find((target) => target.environment === environment.id) ??
    (environment.name === undefined
      ? undefined
      : config.targets.find((target) => target.environment === environment.name))
  );
}
