import { type Executor, type TaskContext, TaskFailure } from '../executor';
import { batchSize, type HostAddress } from './config';
import {
  checkActive,
  inBatches,
  type PhysicalTask,
  pause,
  physicalTask,
  render,
  runChecked,
  templateValues,
  withSessions,
} from './host-task';
import { swapLinkScript } from './layout';
import { installCommands, installRelease } from './rolling-deploy';
import { literalWord, shellQuote, variableWord } from './shell';
import type { SshSession } from './ssh-session';

/**
 * Blue-green on hosts (docs/physical-hosts.md): blue is the release `current` points at and
 * the service on `app_port` runs; green is the new release, started beside it on
 * `green_port`. Switching points `current` at green and reloads the service; blue's release
 * stays until cleanup_blue removes it.
 */

/** `deploy_green`: the release on every host, started as green; blue keeps serving. */
export const deployGreenExecutor: Executor = {
  type: 'deploy_green',
  async execute(context: TaskContext) {
    const task = physicalTask(context);
    for (const address of task.addresses) installCommands(task, address, 'green');
    context.log.info(
      `starting ${context.payload.version.git_tag} as green on ${task.addresses.length} host(s)`,
    );
    // Green takes no traffic yet, so every host installs it at once.
    await withSessions(task, (sessions) =>
      inBatches(sessions, sessions.length, (session) =>
        installRelease(task, session, installCommands(task, session.address, 'green')),
      ),
    );
    return {
      hosts: task.addresses.map((address) => address.name),
      release: task.releaseDir,
      ...(task.config.green_port === undefined ? {} : { green_port: task.config.green_port }),
    };
  },
};

interface SwitchCommands {
  readonly switch: string | undefined;
  readonly reload: string;
  readonly active: string | undefined;
}

function switchCommands(task: PhysicalTask, address: HostAddress): SwitchCommands {
  const { config } = task;
  const values = templateValues(task, address, 'live');
  return {
    switch: config.switch_command && render('switch_command', config.switch_command, values),
    reload: config.reload_command
      ? render('reload_command', config.reload_command, values)
      : render('restart_command', config.restart_command, values),
    active: config.active_command && render('active_command', config.active_command, values),
  };
}

/**
 * Points `current` at this version's release (it must be there: deploy_green put it) and
 * `blue` at the one it replaces; prints `blue=<dir>`. Running it again changes nothing.
 */
const switchScript = (task: PhysicalTask): string => {
  const { layout, releaseDir } = task;
  return [
    `[ -d ${shellQuote(releaseDir)} ] || { echo "no release ${releaseDir} on this host: deploy_green has not run" >&2; exit 3; }`,
    `previous=$(readlink ${shellQuote(layout.current)} || true)`,
    `if [ "$previous" != ${shellQuote(releaseDir)} ]; then`,
    `  if [ -n "$previous" ]; then ${swapLinkScript(variableWord('previous'), layout.blue)}; fi`,
    `  ${swapLinkScript(literalWord(releaseDir), layout.current)}`,
    'fi',
    `rm -f ${shellQuote(layout.green)}`,
    `echo "blue=$(readlink ${shellQuote(layout.blue)} || true)"`,
  ].join('\n');
};

const reportedValue = (stdout: string, key: string): string | undefined =>
  stdout
    .split('\n')
    .find((line) => line.startsWith(`${key}=`))
    ?.slice(key.length + 1)
    .trim() || undefined;

async function switchHost(
  task: PhysicalTask,
  session: SshSession,
  blue: Record<string, string>,
): Promise<void> {
  const commands = switchCommands(task, session.address);
  const switched = await runChecked(task, session, switchScript(task), {
    label: `point ${task.layout.current} at ${task.releaseDir}`,
    failure: 'SwitchFailed',
  });
  const previous = reportedValue(switched.stdout, 'blue');
  if (previous) blue[session.address.name] = previous;
  if (commands.switch) {
    await runChecked(task, session, commands.switch, { label: 'switch', failure: 'SwitchFailed' });
  }
  await runChecked(task, session, commands.reload, { label: 'reload', failure: 'ReloadFailed' });
  await checkActive(task, session, commands.active, 'active check');
}

/** `switch_traffic`: `max_unavailable` hosts at a time move from blue to green. */
export const switchTrafficExecutor: Executor = {
  type: 'switch_traffic',
  async execute(context: TaskContext) {
    const task = physicalTask(context);
    for (const address of task.addresses) switchCommands(task, address);
    const blue: Record<string, string> = {};
    await withSessions(task, (sessions) =>
      inBatches(sessions, batchSize(task.config, sessions.length), (session) =>
        switchHost(task, session, blue),
      ),
    );
    return { hosts: task.addresses.map((address) => address.name), release: task.releaseDir, blue };
  },
};

/** Prints the blue and current links' targets, `blue=` empty when there is no blue. */
const inspectScript = (task: PhysicalTask): string =>
  [
    `echo "blue=$(readlink ${shellQuote(task.layout.blue)} || true)"`,
    `echo "current=$(readlink ${shellQuote(task.layout.current)} || true)"`,
  ].join('\n');

async function removeBlue(
  task: PhysicalTask,
  session: SshSession,
  removed: Record<string, string>,
): Promise<void> {
  const { layout, config } = task;
  const { stdout } = await runChecked(task, session, inspectScript(task), {
    label: 'find the blue release',
    failure: 'CleanupFailed',
  });
  const blue = reportedValue(stdout, 'blue');
  if (!blue) {
    task.context.log.info(`${session.address.name}: no blue release to remove`);
    return;
  }
  if (blue === reportedValue(stdout, 'current')) {
    task.context.log.info(`${session.address.name}: blue ${blue} is in service again; kept`);
    await runChecked(task, session, `rm -f ${shellQuote(layout.blue)}`, {
      label: 'forget blue',
      failure: 'CleanupFailed',
    });
    return;
  }
  const releasesPrefix = `${layout.releases}/`;
  const name = blue.startsWith(releasesPrefix) ? blue.slice(releasesPrefix.length) : '';
  if (!/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/.test(name)) {
    throw new TaskFailure(
      'CleanupFailed',
      `${layout.blue} on ${session.address.name} points at ${blue}, not a release under ${layout.releases}: left alone`,
    );
  }
  if (config.cleanup_command) {
    const values = templateValues(task, session.address, 'blue', blue);
    await runChecked(task, session, render('cleanup_command', config.cleanup_command, values), {
      label: 'cleanup',
      failure: 'CleanupFailed',
    });
  }
  await runChecked(task, session, `rm -rf -- ${shellQuote(blue)} && rm -f ${shellQuote(layout.blue)}`, {
    label: `remove ${blue}`,
    failure: 'CleanupFailed',
  });
  removed[session.address.name] = blue;
}

export interface CleanupBlueOptions {
  /** the longest cleanup_blue waits, whatever `delay` says (a local runtime's demo) */
  readonly maxDelaySeconds?: number;
}

/** `cleanup_blue`: waits `delay` seconds (blue stays ready for a switch back), then removes it. */
export const cleanupBlueExecutor = (options: CleanupBlueOptions = {}): Executor => ({
  type: 'cleanup_blue',
  async execute(context: TaskContext) {
    const task = physicalTask(context);
    const delay = Math.min(task.config.delay, options.maxDelaySeconds ?? Number.POSITIVE_INFINITY);
    context.log.info(`removing blue in ${delay} s`);
    await pause(task, delay * 1000, 'waiting to remove blue');
    const removed: Record<string, string> = {};
    await withSessions(task, (sessions) =>
      inBatches(sessions, sessions.length, (session) => removeBlue(task, session, removed)),
    );
    return { hosts: task.addresses.map((address) => address.name), removed };
  },
});
