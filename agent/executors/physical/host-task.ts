import { setTimeout as sleep } from 'node:timers/promises';
import { sshCredentials, sshPort } from '../../credentials/target-credentials';
import { type TaskContext, TaskFailure } from '../executor';
import { imageReference } from '../image';
import {
  type HostAddress,
  type PhysicalConfig,
  parseHostAddress,
  parsePhysicalConfig,
  releaseName,
} from './config';
import { pinnedKeysFor } from './known-hosts';
import { ReleaseLayout } from './layout';
import { MissingTemplateValue, renderCommand, type TemplateValues } from './shell';
import { type CommandResult, SshSession } from './ssh-session';

/** Which instance of the application a command is about. */
export type Slot = 'live' | 'green' | 'blue';

/** Everything a physical executor derives from its task before it touches a host. */
export interface PhysicalTask {
  readonly context: TaskContext;
  readonly config: PhysicalConfig;
  readonly addresses: readonly HostAddress[];
  readonly layout: ReleaseLayout;
  /** this version's release directory */
  readonly releaseDir: string;
  readonly image: string;
  readonly commandTimeoutMs: number;
}

export function physicalTask(context: TaskContext): PhysicalTask {
  const config = parsePhysicalConfig(context.payload);
  const port = sshPort(context);
  const layout = new ReleaseLayout(
    config.release_root ?? `/opt/${releaseName(context.payload.application.name)}`,
  );
  return {
    context,
    config,
    addresses: config.hosts.map((name) => parseHostAddress(name, port)),
    layout,
    releaseDir: layout.release(releaseName(context.payload.version.git_tag)),
    image: imageReference(context.payload, context.target.registry),
    commandTimeoutMs: config.command_timeout_seconds * 1000,
  };
}

/** Failures of several hosts as one: the first one's code, every host's cause. */
export function combinedFailure(failures: readonly unknown[]): unknown {
  const known = failures.filter((failure): failure is TaskFailure => failure instanceof TaskFailure);
  const first = failures[0];
  if (known.length !== failures.length || !first) return first;
  const aborted = known.find((failure) => failure.error === 'TaskAborted');
  if (aborted) return aborted;
  const [head] = known;
  if (!head || known.length === 1) return head;
  return new TaskFailure(head.error, known.map((failure) => failure.cause).join('; '));
}

/**
 * Connects to every host first, so a host that is unreachable or whose key is not the pinned
 * one fails the task before any host has changed. Runs `work`, then closes every connection.
 */
export async function withSessions<T>(
  task: PhysicalTask,
  work: (sessions: readonly SshSession[]) => Promise<T>,
): Promise<T> {
  const { context, config, addresses } = task;
  const { user, privateKey, knownHosts } = await sshCredentials(context);
  const opened = await Promise.allSettled(
    addresses.map((address) =>
      SshSession.open({
        address,
        credentials: { user, privateKey },
        pinnedKeys: pinnedKeysFor(knownHosts, address.host, address.port),
        connectTimeoutMs: config.connect_timeout_seconds * 1000,
        signal: context.signal,
        log: context.log,
      }),
    ),
  );
  const sessions = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failures = opened.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0) throw combinedFailure(failures);
    return await work(sessions);
  } finally {
    for (const session of sessions) session.close();
  }
}

export interface CommandSpec {
  readonly label: string;
  /** the TaskFailure code when it exits non-zero */
  readonly failure: string;
}

/** The template values of one host and slot. */
export function templateValues(
  task: PhysicalTask,
  address: HostAddress,
  slot: Slot,
  releaseDir: string = task.releaseDir,
): TemplateValues {
  const { payload } = task.context;
  const port = slot === 'green' ? task.config.green_port : task.config.app_port;
  return {
    application: payload.application.name,
    git_tag: payload.version.git_tag,
    image: task.image,
    host: address.host,
    port: port === undefined ? undefined : String(port),
    slot,
    release_root: task.layout.root,
    release_dir: releaseDir,
    current_dir: task.layout.current,
  };
}

/** Fills a config command's template; a `{port}` without its port setting is a config error. */
export function render(configKey: string, template: string, values: TemplateValues): string {
  try {
    return renderCommand(template, values);
  } catch (error) {
    if (error instanceof MissingTemplateValue) {
      const setting = values.slot === 'green' ? 'green_port' : 'app_port';
      throw new TaskFailure(
        'InvalidConfig',
        `config.${configKey} names {${error.variable}}, which has no value${error.variable === 'port' ? ` (set config.${setting})` : ''}`,
      );
    }
    throw error;
  }
}

/** Runs a command; a non-zero exit fails the task with the spec's code, naming the host. */
export async function runChecked(
  task: PhysicalTask,
  session: SshSession,
  command: string,
  spec: CommandSpec,
): Promise<CommandResult> {
  const result = await session.run(command, { label: spec.label, timeoutMs: task.commandTimeoutMs });
  if (result.exitCode !== 0) {
    const tail = result.tail.trim();
    throw new TaskFailure(
      spec.failure,
      `${spec.label} on ${session.address.name} exited with ${result.exitCode}${tail ? `: ${tail}` : ''}`,
    );
  }
  return result;
}

/** Runs the active check until it passes, `active_attempts` times at most. */
export async function checkActive(
  task: PhysicalTask,
  session: SshSession,
  command: string | undefined,
  label: string,
): Promise<void> {
  if (command === undefined) return;
  const { active_attempts: attempts, active_interval_seconds: interval } = task.config;
  let last: CommandResult | undefined;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    last = await session.run(command, {
      label: `${label} (${attempt}/${attempts})`,
      timeoutMs: task.commandTimeoutMs,
    });
    if (last.exitCode === 0) return;
    if (attempt < attempts)
      await pause(task, interval * 1000, `waiting to check ${session.address.name} again`);
  }
  const tail = last?.tail.trim();
  throw new TaskFailure(
    'ServiceNotActive',
    `${label} on ${session.address.name} failed ${attempts} times (last exit ${last?.exitCode})${tail ? `: ${tail}` : ''}`,
  );
}

/** Waits, unless the task is aborted first. */
export async function pause(task: PhysicalTask, ms: number, doing: string): Promise<void> {
  try {
    await sleep(ms, undefined, { signal: task.context.signal });
  } catch {
    throw new TaskFailure('TaskAborted', `The task was aborted while ${doing}`);
  }
}

/**
 * Runs `work` on the sessions in batches of `size`, each batch in parallel; the first batch
 * with a failure stops the rollout, and the failure names the failed hosts, the updated ones
 * and those left untouched.
 */
export async function inBatches(
  sessions: readonly SshSession[],
  size: number,
  work: (session: SshSession) => Promise<void>,
): Promise<void> {
  const done: string[] = [];
  for (let start = 0; start < sessions.length; start += size) {
    const batch = sessions.slice(start, start + size);
    const results = await Promise.allSettled(batch.map((session) => work(session)));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    batch.forEach((session, index) => {
      if (results[index]?.status === 'fulfilled') done.push(session.address.name);
    });
    if (failures.length === 0) continue;
    const failure = combinedFailure(failures);
    if (!(failure instanceof TaskFailure) || failure.error === 'TaskAborted') throw failure;
    const untouched = sessions.slice(start + size).map((session) => session.address.name);
    const failed = batch
      .filter((_, index) => results[index]?.status === 'rejected')
      .map((s) => s.address.name);
    throw new TaskFailure(
      failure.error,
      [
        `Stopped at ${failed.join(', ')}: ${failure.cause}.`,
        `Updated: ${done.length > 0 ? done.join(', ') : 'none'}.`,
        `Not touched: ${untouched.length > 0 ? untouched.join(', ') : 'none'}.`,
      ].join(' '),
    );
  }
}
