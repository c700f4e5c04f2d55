import type { Executor, TaskContext } from '../executor';
import { batchSize, type HostAddress } from './config';
import {
  checkActive,
  inBatches,
  type PhysicalTask,
  physicalTask,
  render,
  runChecked,
  templateValues,
  withSessions,
} from './host-task';
import { swapLinkScript } from './layout';
import { literalWord, shellQuote } from './shell';
import type { SshSession } from './ssh-session';

export interface InstallCommands {
  readonly link: string;
  readonly fetch: string;
  readonly restart: string;
  readonly active: string | undefined;
}

/** The commands that install this release on one host and start it in a slot. */
export function installCommands(
  task: PhysicalTask,
  address: HostAddress,
  slot: 'live' | 'green',
): InstallCommands {
  const { config, layout } = task;
  const values = templateValues(task, address, slot);
  const restart =
    slot === 'green' ? (config.green_restart_command ?? config.restart_command) : config.restart_command;
  const active =
    slot === 'green' ? (config.green_active_command ?? config.active_command) : config.active_command;
  const restartKey =
    slot === 'green' && config.green_restart_command ? 'green_restart_command' : 'restart_command';
  const activeKey =
    slot === 'green' && config.green_active_command ? 'green_active_command' : 'active_command';
  return {
    link: slot === 'green' ? layout.green : layout.current,
    fetch: render('fetch_command', config.fetch_command, values),
    restart: render(restartKey, restart, values),
    active: active === undefined ? undefined : render(activeKey, active, values),
  };
}

/**
 * Puts the release in place on one host and starts it: creates the release directory and runs
 * the fetch into it, points the slot's link at it, restarts, then runs the active check.
 */
export async function installRelease(
  task: PhysicalTask,
  session: SshSession,
  commands: InstallCommands,
): Promise<void> {
  await runChecked(task, session, `mkdir -p ${shellQuote(task.releaseDir)} && {\n${commands.fetch}\n}`, {
    label: 'fetch',
    failure: 'FetchFailed',
  });
  await runChecked(task, session, swapLinkScript(literalWord(task.releaseDir), commands.link), {
    label: `point ${commands.link} at ${task.releaseDir}`,
    failure: 'ReleaseFailed',
  });
  await runChecked(task, session, commands.restart, { label: 'restart', failure: 'RestartFailed' });
  await checkActive(task, session, commands.active, 'active check');
}

/**
 * `deploy` (rolling-update) on physical hosts: `max_unavailable` hosts at a time, each moved
 * to the new release and checked before the next batch starts.
 */
export const rollingDeployExecutor: Executor = {
  type: 'deploy',
  async execute(context: TaskContext) {
    const task = physicalTask(context);
    // Rendered before connecting, so a template error fails the task before any host changes.
    for (const address of task.addresses) installCommands(task, address, 'live');
    const size = batchSize(task.config, task.addresses.length);
    context.log.info(
      `rolling ${context.payload.version.git_tag} out to ${task.addresses.length} host(s), ${size} at a time`,
    );
    await withSessions(task, (sessions) =>
      inBatches(sessions, size, (session) =>
        installRelease(task, session, installCommands(task, session.address, 'live')),
      ),
    );
    return { hosts: task.addresses.map((address) => address.name), release: task.releaseDir };
  },
};
