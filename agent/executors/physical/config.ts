import * as z from 'zod';
import type { TaskPayloadV1 } from '../../../lambdas/agent-protocol';
import { TaskFailure } from '../executor';

/**
 * The environment config of a physical environment, as it arrives in `payload.config` (the
 * step's config overridden by the application's and the environment's). docs/physical-hosts.md
 * describes every key.
 */

const Port = z.number().int().min(1).max(65_535);
const Command = z.string().trim().min(1);
const AbsolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/+@-]*$/, 'an absolute path of letters, digits and . _ / + @ -')
  .refine((path) => !path.split('/').includes('..'), 'must not contain ..');
const Seconds = z.number().min(0);
const HostList = z.array(z.string().trim().min(1)).min(1);
/**
 * The API keeps config values scalar, so an environment's hosts arrive as one string
 * (`"10.0.0.5, 10.0.0.6 10.0.0.7:2222"`: commas or whitespace between hosts); a list is
 * taken as it is.
 */
const Hosts = z.union([
  HostList,
  z
    .string()
    .transform((text) => text.split(/[\s,]+/).filter((host) => host !== ''))
    .pipe(HostList),
]);

export const PhysicalConfig = z.looseObject({
  hosts: Hosts,
  release_root: AbsolutePath.optional(),
  fetch_command: Command,
  restart_command: Command,
  active_command: Command.optional(),
  active_attempts: z.number().int().min(1).max(100).default(5),
  active_interval_seconds: Seconds.max(600).default(2),
  app_port: Port.optional(),
  green_port: Port.optional(),
  green_restart_command: Command.optional(),
  green_active_command: Command.optional(),
  switch_command: Command.optional(),
  reload_command: Command.optional(),
  cleanup_command: Command.optional(),
  /** hosts out of service at once during a rolling update: a count, or a share like `25%` */
  max_unavailable: z.union([z.number().int().min(1), z.string().regex(/^\d{1,3}%$/)]).default(1),
  /** cleanup_blue's wait before it removes blue */
  delay: Seconds.default(300),
  command_timeout_seconds: Seconds.min(1).default(600),
  connect_timeout_seconds: Seconds.min(1).default(15),
});
export type PhysicalConfig = z.infer<typeof PhysicalConfig>;

export interface HostAddress {
  /** as the config names it (`10.0.0.5:2222`), for messages */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address takes the default port. */
export function parseHostAddress(name: string, defaultPort: number): HostAddress {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(name);
  const hostPort = /^([^:]+):(\d+)$/.exec(name);
  const [host, port] = bracketed
    ? [bracketed[1], bracketed[2]]
    : hostPort
      ? [hostPort[1], hostPort[2]]
      : [name, undefined];
  const portNumber = port === undefined ? defaultPort : Number(port);
  if (
    !host ||
    !/^[A-Za-z0-9._:%-]+$/.test(host) ||
    !Number.isInteger(portNumber) ||
    portNumber < 1 ||
    portNumber > 65_535
  ) {
    throw new TaskFailure('InvalidConfig', `config.hosts: "${name}" is not a host or host:port`);
  }
  return { name, host, port: portNumber };
}

export function parsePhysicalConfig(payload: TaskPayloadV1): PhysicalConfig {
  const parsed = PhysicalConfig.safeParse(payload.config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `config.${issue.path.join('.')}: ${issue.message}`);
    throw new TaskFailure('InvalidConfig', problems.join('; '));
  }
  return parsed.data;
}

/** How many hosts may be out of service at once: at least one, at most all. */
export function batchSize(config: PhysicalConfig, hostCount: number): number {
  const { max_unavailable: limit } = config;
  const count =
    typeof limit === 'number' ? limit : Math.floor((hostCount * Number.parseInt(limit, 10)) / 100);
  return Math.min(hostCount, Math.max(1, count));
}

/**
 * The directory name of a release: the git tag, with anything but letters, digits and
 * `. _ + -` replaced by `_`, so a tag like `release/1.0` stays one directory.
 */
export function releaseName(gitTag: string): string {
  const name = gitTag.replace(/[^A-Za-z0-9._+-]/g, '_');
  return /^[.-]/.test(name) ? `_${name}` : name;
}
