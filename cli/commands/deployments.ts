import type { Command } from 'commander';
import * as z from 'zod';
import { CancelDeploymentResponse, Deployment, DeploymentStrategy } from '../../lambdas/domain/deployment';
import { Task } from '../../lambdas/domain/task';
import { TaskLogResponse } from '../../lambdas/domain/task-log';
import { Version } from '../../lambdas/domain/version';
import { type ApiClient, ApiError } from '../api-client';
import { CliError, EXIT, usageError } from '../exit-codes';
import { print, table } from '../output';
import { collect, parseDuration } from '../parse';
import { resolve } from '../resolve';
import { outcomeOf } from '../watch/model';
import { formatElapsed } from '../watch/render';
import { watchDeployment } from '../watch/watch';
import type { Context } from './context';

interface WaitOptions {
  wait?: boolean;
  timeout?: string;
  interval?: string;
}

const DEPLOYMENT_ID = /^dep_[0-9a-z]{26}$/;
const TASK_ID = /^task_[0-9a-z]{26}$/;

function deploymentId(value: string): string {
  if (!DEPLOYMENT_ID.test(value)) throw usageError(`"${value}" is not a deployment id (dep_…)`);
  return value;
}

function taskId(value: string): string {
  if (!TASK_ID.test(value)) throw usageError(`"${value}" is not a task id (task_…)`);
  return value;
}

async function watch(context: Context, api: ApiClient, id: string, options: WaitOptions): Promise<void> {
  const output = context.output();
  const result = await watchDeployment(api, id, {
    timeoutMs: options.timeout === undefined ? undefined : parseDuration(options.timeout),
    intervalMs: options.interval === undefined ? undefined : parseDuration(options.interval),
    output: output === 'text' ? 'auto' : output,
  });
  process.exitCode = result.exitCode;
}

const waitOptions = (command: Command): Command =>
  command
    .option('--timeout <duration>', 'give up waiting after this long (exit 3), e.g. 90s, 10m')
    .option('--interval <duration>', 'how often to look', '500ms');

/** The version that last succeeded for all these applications on the environment, other than `current`. */
export function previousSuccessfulVersion(
  deployments: readonly Deployment[],
  of: Pick<Deployment, 'id' | 'application_ids' | 'environment_id' | 'version_id' | 'created_at'>,
): string | undefined {
  const candidates = deployments
    .filter(
      (item) =>
        item.id !== of.id &&
        item.status === 'success' &&
        item.environment_id === of.environment_id &&
        item.version_id !== of.version_id &&
        item.created_at <= of.created_at &&
        of.application_ids.every((application) => item.application_ids.includes(application)),
    )
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  return candidates[0]?.version_id;
}

/** The failed task to retry first: in pipeline order, one whose dependencies all succeeded. */
export function nextRetryable(tasks: readonly Task[]): Task | undefined {
  return tasks.find(
    (task) =>
      task.status === 'failed' &&
      task.depends_on.every((dependency) =>
        tasks.some((other) => other.id === dependency && other.status === 'success'),
      ),
  );
}

export function registerDeployments(program: Command, context: Context): void {
  waitOptions(
    program
      .command('deploy')
      .description('deploy a version of applications to an environment')
      .requiredOption('--app <name-or-id>', 'an application (repeatable)', collect)
      .requiredOption('--env <name-or-id>', 'the environment')
      .requiredOption('--version <tag-or-id>', 'the version (git tag or id)')
      .option('--strategy <standard|blue-green>', 'the workflow template')
      .option('--wait', 'follow it to the end (exit 0 success, 1 failed, 3 timed out, 4 cancelled)'),
  ).action(
    async (options: WaitOptions & { app: string[]; env: string; version: string; strategy?: string }) => {
      if (options.strategy !== undefined && !DeploymentStrategy.safeParse(options.strategy).success)
        throw usageError(`--strategy must be standard or blue-green, not "${options.strategy}"`);
      if (options.timeout !== undefined) parseDuration(options.timeout);
      const api = await context.api();
      const applications = [];
      for (const reference of options.app) applications.push(await resolve(api, 'application', reference));
      const environment = await resolve(api, 'environment', options.env);
      const repositories = new Set(applications.map((application) => application.repository));
      const version = await resolve(api, 'version', options.version, (item) =>
        repositories.has(item.repository),
      );
      const deployment = await api.post('/deployments', Deployment, {
        version_id: version.id,
        application_ids: applications.map((application) => application.id),
        environment_id: environment.id,
        ...(options.strategy ? { strategy: options.strategy } : {}),
      });
      if (!options.wait) {
        print(context.output(), deployment, () => deployment.id);
        return;
      }
      if (context.output() === 'text') process.stderr.write(`created deployment ${deployment.id}\n`);
      await watch(context, api, deployment.id, options);
    },
  );

  waitOptions(program.command('watch <deployment>').description('follow a deployment to its end')).action(
    async (id: string, options: WaitOptions) => {
      const target = deploymentId(id);
      await watch(context, await context.api(), target, options);
    },
  );

  program
    .command('cancel <deployment>')
    .description('stop an unfinished deployment')
    .action(async (id: string) => {
      const target = deploymentId(id);
      const answer = await (await context.api()).post(
        `/deployments/${target}/cancel`,
        CancelDeploymentResponse,
      );
      print(context.output(), answer, () => `cancelled ${answer.id}: ${answer.error_message}`);
    });

  waitOptions(
    program
      .command('retry <task>')
      .description('run a failed task again; its deployment resumes')
      .option('--wait', 'follow the deployment to its end'),
  ).action(async (id: string, options: WaitOptions) => {
    const target = taskId(id);
    const api = await context.api();
    const task = await api.post(`/tasks/${target}/retry`, Task);
    if (!options.wait) {
      print(context.output(), task, () => `retrying ${task.id} (${task.step_id}) of ${task.deployment_id}`);
      return;
    }
    await watch(context, api, task.deployment_id, options);
  });

  waitOptions(
    program
      .command('resume <deployment>')
      .description('retry the failed tasks in dependency order until the deployment ends'),
  ).action(async (id: string, options: WaitOptions) => {
    const target = deploymentId(id);
    const api = await context.api();
    const retried = new Set<string>();
    const deadline = options.timeout === undefined ? undefined : Date.now() + parseDuration(options.timeout);
    for (;;) {
      const deployment = await api.get(`/deployments/${target}`, Deployment);
      if (deployment.status === 'success') {
        if (context.output() === 'text') process.stdout.write(`✓ deployment ${deployment.id} succeeded\n`);
        process.exitCode = EXIT.success;
        return;
      }
      if (deployment.status === 'failed') {
        const tasks = await api.listAll('/tasks', 'tasks', Task, {
          deployment_id: deployment.id,
          sort: 'oldest',
        });
        const task = nextRetryable(tasks);
        if (task === undefined)
          throw new CliError(
            `deployment ${deployment.id} has no failed task to retry`,
            EXIT.deploymentFailed,
            'NOTHING_TO_RETRY',
          );
        if (retried.has(task.id))
          throw new CliError(
            `${task.step_id} of ${deployment.id} failed again after a retry (${task.id})`,
            EXIT.deploymentFailed,
            'FAILED_AGAIN',
          );
        retried.add(task.id);
        await api.post(`/tasks/${task.id}/retry`, Task);
        if (context.output() === 'text') process.stderr.write(`retrying ${task.step_id} (${task.id})\n`);
      }
      const remaining = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      const result = await watchDeployment(api, deployment.id, {
        timeoutMs: remaining,
        intervalMs: options.interval === undefined ? undefined : parseDuration(options.interval),
        output: context.output() === 'text' ? 'auto' : context.output(),
      });
      if (result.outcome === 'success') {
        process.exitCode = EXIT.success;
        return;
      }
    }
  });

  waitOptions(
    program
      .command('rollback <deployment>')
      .description('deploy the same applications to the same environment at an earlier version')
      .option('--to <tag-or-id>', 'the version to go back to')
      .option('--previous', 'the last version that succeeded for these applications on that environment')
      .option('--force', "deploy it even when it is the deployment's own version")
      .option('--wait', 'follow the new deployment to its end'),
  ).action(
    async (id: string, options: WaitOptions & { to?: string; previous?: boolean; force?: boolean }) => {
      const target = deploymentId(id);
      if ((options.to === undefined) === (options.previous === undefined))
        throw usageError('rollback needs exactly one of --to <version> or --previous');
      const api = await context.api();
      const original = await api.get(`/deployments/${target}`, Deployment);
      let version: string;
      if (options.to !== undefined) {
        version = (await resolve(api, 'version', options.to)).id;
      } else {
        const history = await api.listAll('/deployments', 'deployments', Deployment, {
          environment_id: original.environment_id,
          status: 'success',
        });
        const previous = previousSuccessfulVersion(history, original);
        if (previous === undefined)
          throw new CliError(
            `no earlier successful deployment of these applications on ${original.environment_id}`,
            EXIT.deploymentFailed,
            'NO_PREVIOUS_VERSION',
          );
        version = previous;
      }
      const deployment = await api.post(`/deployments/${original.id}/rollback`, Deployment, {
        target_version_id: version,
        ...(options.force ? { force: true } : {}),
      });
      if (!options.wait) {
        print(context.output(), deployment, () => deployment.id);
        return;
      }
      if (context.output() === 'text')
        process.stderr.write(`created deployment ${deployment.id} (rollback of ${original.id})\n`);
      await watch(context, api, deployment.id, options);
    },
  );

  program
    .command('history')
    .description('the deployments to an environment, newest first')
    .requiredOption('--env <name-or-id>', 'the environment')
    .option('--app <name-or-id>', 'only deployments of this application')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (options: { env: string; app?: string; limit: string }) => {
      const api = await context.api();
      const environment = await resolve(api, 'environment', options.env);
      const application =
        options.app === undefined ? undefined : await resolve(api, 'application', options.app);
      const all = await api.listAll('/deployments', 'deployments', Deployment, {
        environment_id: environment.id,
      });
      const shown = all
        .filter((item) => application === undefined || item.application_ids.includes(application.id))
        .slice(0, Number(options.limit));
      const tags = new Map<string, string>();
      for (const item of shown) {
        if (!tags.has(item.version_id))
          tags.set(
            item.version_id,
            (await api.get(`/versions/${item.version_id}`, Version).catch(() => undefined))?.git_tag ??
              item.version_id,
          );
      }
      print(context.output(), shown, () =>
        table([
          ['ID', 'VERSION', 'STATUS', 'APPLICATIONS', 'CREATED', 'TOOK'],
          ...shown.map((item) => [
            item.id,
            tags.get(item.version_id) ?? item.version_id,
            outcomeOf(item) ?? item.status,
            String(item.application_ids.length),
            item.created_at,
            item.started_at && item.completed_at
              ? formatElapsed(Date.parse(item.completed_at) - Date.parse(item.started_at))
              : '',
          ]),
        ]),
      );
    });

  waitOptions(
    program
      .command('logs <task-or-deployment>')
      .description("a task's log lines (or every task's of a deployment, in pipeline order)")
      .option('-f, --follow', 'keep reading until the task (or deployment) ends'),
  ).action(async (id: string, options: WaitOptions & { follow?: boolean }) => {
    const api = await context.api();
    const deadline = new AbortController();
    const timer =
      options.timeout === undefined
        ? undefined
        : setTimeout(() => deadline.abort(new Error('timeout')), parseDuration(options.timeout));
    const interval = options.interval === undefined ? 500 : parseDuration(options.interval);
    try {
      await printLogs(api, id, Boolean(options.follow), interval, deadline.signal);
    } catch (error) {
      if (deadline.signal.aborted)
        throw new CliError(`timed out reading the logs of ${id}`, EXIT.timedOut, 'TIMEOUT');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  });
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

async function printLogs(
  api: ApiClient,
  id: string,
  follow: boolean,
  interval: number,
  signal: AbortSignal,
): Promise<void> {
  const cursors = new Map<string, string>();
  const printed = new Set<string>();
  const seenLines = new Set<string>();
  for (;;) {
    let tasks: Task[];
    let finished: boolean;
    const visible = await api
      .get(
        TASK_ID.test(id) ? `/tasks/${id}` : `/deployments/${deploymentId(id)}`,
        z.unknown(),
        undefined,
        signal,
      )
      .then(() => true)
      .catch((error: unknown) => {
        // --follow waits for a task or deployment not visible yet, until --timeout.
        if (follow && error instanceof ApiError && error.status === 404) return false;
        throw error;
      });
    if (!visible) {
      await pause(interval, signal);
      continue;
    }
    if (TASK_ID.test(id)) {
      tasks = [await api.get(`/tasks/${id}`, Task, undefined, signal)];
      finished = tasks.every((task) => task.status === 'success' || task.status === 'failed');
    } else {
      const deployment = await api.get(`/deployments/${deploymentId(id)}`, Deployment, undefined, signal);
      tasks = await api.listAll(
        '/tasks',
        'tasks',
        Task,
        { deployment_id: deployment.id, sort: 'oldest' },
        signal,
      );
      finished = outcomeOf(deployment) !== undefined;
    }
    const prefix = tasks.length > 1;
    let complete = true;
    for (const task of tasks) {
      if (printed.has(task.id)) continue;
      const logs = await api.get(
        `/tasks/${task.id}/logs`,
        TaskLogResponse,
        { limit: 2000, cursor: cursors.get(task.id) },
        signal,
      );
      cursors.set(task.id, logs.next_cursor);
      for (const line of logs.lines) {
        seenLines.add(task.id);
        process.stdout.write(`${prefix ? `${task.step_id} ${task.application_id} │ ` : ''}${line.text}\n`);
      }
      if (logs.complete) {
        // Agents that write no logs still report a result: show it rather than nothing.
        if (!seenLines.has(task.id) && task.result !== '')
          process.stdout.write(
            `${prefix ? `${task.step_id} ${task.application_id} │ ` : ''}result: ${task.result}\n`,
          );
        printed.add(task.id);
      } else complete = false;
    }
    if (!follow || (finished && complete)) return;
    await pause(interval, signal);
  }
}
