import { Application } from '../../lambdas/domain/application';
import { Deployment } from '../../lambdas/domain/deployment';
import { Environment } from '../../lambdas/domain/environment';
import { Task } from '../../lambdas/domain/task';
import { TaskLogResponse } from '../../lambdas/domain/task-log';
import { Version } from '../../lambdas/domain/version';
import { type ApiClient, ApiError } from '../api-client';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { groupByApplication, type Outcome, outcomeOf, type WatchSnapshot } from './model';
import { outcomeLine, plainChanges, renderSnapshot } from './render';

export type WatchOutput = 'auto' | 'text' | 'json' | 'ndjson';

export interface WatchOptions {
  /** give up (exit 3) after this long; in-flight requests are aborted */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly output?: WatchOutput;
  readonly stdout?: NodeJS.WriteStream;
}

export interface WatchResult {
  readonly exitCode: ExitCode;
  readonly outcome?: Outcome;
  readonly snapshot: WatchSnapshot;
}

export const EXIT_OF_OUTCOME: Readonly<Record<Outcome, ExitCode>> = {
  success: EXIT.success,
  failed: EXIT.deploymentFailed,
  cancelled: EXIT.cancelled,
};

class TimedOut extends Error {}

/** Resolves after `ms`, or rejects at once when the watch's deadline passes. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Follows what the live view needs: the deployment, its tasks, and the running steps' logs. */
class DeploymentFollower {
  readonly #names = new Map<string, string>();
  readonly #cursors = new Map<string, string>();
  readonly #latest = new Map<string, string>();
  #versionLabel?: string;
  #environmentLabel?: string;

  constructor(
    readonly api: ApiClient,
    readonly deploymentId: string,
  ) {}

  async #labels(deployment: Deployment, signal: AbortSignal): Promise<void> {
    if (this.#versionLabel === undefined) {
      const version = await this.api
        .get(`/versions/${deployment.version_id}`, Version, undefined, signal)
        .catch(() => undefined);
      this.#versionLabel = version?.git_tag ?? deployment.version_id;
    }
    if (this.#environmentLabel === undefined) {
      const environment = await this.api
        .get(`/environments/${deployment.environment_id}`, Environment, undefined, signal)
        .catch(() => undefined);
      this.#environmentLabel = environment?.name ?? deployment.environment_id;
    }
    for (const id of deployment.application_ids) {
      if (this.#names.has(id)) continue;
      const application = await this.api
        .get(`/applications/${id}`, Application, undefined, signal)
        .catch(() => undefined);
      this.#names.set(id, application?.name ?? id);
    }
  }

  /** One look at the deployment; `newLines` are the log lines read since the last look. */
  async poll(
    signal: AbortSignal,
  ): Promise<{ snapshot: WatchSnapshot; newLines: { taskId: string; text: string }[] }> {
    let deployment: Deployment;
    try {
      deployment = await this.api.get(`/deployments/${this.deploymentId}`, Deployment, undefined, signal);
    } catch (error) {
      // Not visible yet (just created elsewhere, or a replica behind): keep waiting.
      if (error instanceof ApiError && error.status === 404)
        return { snapshot: { deploymentId: this.deploymentId, applications: [] }, newLines: [] };
      throw error;
    }
    await this.#labels(deployment, signal);
    const tasks = await this.api.listAll(
      '/tasks',
      'tasks',
      Task,
      { deployment_id: deployment.id, sort: 'oldest' },
      signal,
    );
    const newLines: { taskId: string; text: string }[] = [];
    for (const task of tasks.filter((item) => item.status === 'running')) {
      const cursor = this.#cursors.get(task.id);
      const logs = await this.api
        .get(`/tasks/${task.id}/logs`, TaskLogResponse, { limit: 200, ...(cursor ? { cursor } : {}) }, signal)
        .catch((error: unknown) => {
          if (signal.aborted) throw error;
          return undefined;
        });
      if (logs === undefined) continue;
      this.#cursors.set(task.id, logs.next_cursor);
      for (const line of logs.lines) newLines.push({ taskId: task.id, text: line.text });
      const last = logs.lines.at(-1);
      if (last !== undefined) this.#latest.set(task.id, last.text);
    }
    return {
      snapshot: {
        deploymentId: deployment.id,
        deployment,
        versionLabel: this.#versionLabel,
        environmentLabel: this.#environmentLabel,
        applications: groupByApplication(deployment, tasks, this.#names, this.#latest),
      },
      newLines,
    };
  }
}

const machineView = (snapshot: WatchSnapshot) => ({
  deployment: snapshot.deployment ?? null,
  applications: snapshot.applications.map((application) => ({
    id: application.id,
    name: application.name,
    tasks: application.tasks.map((task) => ({
      id: task.id,
      step_id: task.step_id,
      type: task.type,
      status: task.status,
      attempt: task.attempt,
      started_at: task.started_at,
      completed_at: task.completed_at,
    })),
  })),
});

/**
 * Watches a deployment to its end. It reads the current state first (one that already
 * ended returns at once), waits for one not visible yet, and returns exit 3 when
 * `timeoutMs` passes, aborting the request in flight.
 */
export async function watchDeployment(
  api: ApiClient,
  deploymentId: string,
  options: WatchOptions = {},
): Promise<WatchResult> {
  const stdout = options.stdout ?? process.stdout;
  const requested = options.output ?? 'auto';
  const mode = requested === 'auto' || requested === 'text' ? (stdout.isTTY ? 'live' : 'plain') : requested;
  const interval = options.intervalMs ?? 500;
  const deadline = new AbortController();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => deadline.abort(new TimedOut()), options.timeoutMs);
  const follower = new DeploymentFollower(api, deploymentId);
  const live =
    mode === 'live' ? (await import('log-update')).createLogUpdate(stdout, { showCursor: true }) : undefined;
  let previous: WatchSnapshot | undefined;
  let lastNdjson = '';
  try {
    for (;;) {
      const { snapshot, newLines } = await follower.poll(deadline.signal);
      const now = new Date();
      const outcome = outcomeOf(snapshot.deployment);
      if (live) {
        live(renderSnapshot(snapshot, now, stdout.columns).join('\n'));
      } else if (mode === 'plain') {
        const lines = plainChanges(previous, snapshot, newLines, now);
        if (lines.length > 0) stdout.write(`${lines.join('\n')}\n`);
      } else if (mode === 'ndjson') {
        const line = JSON.stringify(machineView(snapshot));
        if (line !== lastNdjson) stdout.write(`${line}\n`);
        lastNdjson = line;
      }
      previous = snapshot;
      if (outcome !== undefined) {
        live?.done();
        if (mode === 'json') stdout.write(`${JSON.stringify(machineView(snapshot), null, 2)}\n`);
        return { exitCode: EXIT_OF_OUTCOME[outcome], outcome, snapshot };
      }
      await sleep(interval, deadline.signal);
    }
  } catch (error) {
    if (
      !(error instanceof TimedOut) &&
      !(deadline.signal.aborted && deadline.signal.reason instanceof TimedOut)
    )
      throw error;
    live?.done();
    const limit = options.timeoutMs ?? 0;
    const seconds = limit < 1000 ? `${limit}ms` : `${Math.round(limit / 1000)}s`;
    const state = previous?.deployment
      ? `it is still ${previous.deployment.status}`
      : 'it is not visible yet';
    throw new CliError(
      `timed out after ${seconds} waiting for deployment ${deploymentId}; ${state}`,
      EXIT.timedOut,
      'TIMEOUT',
    );
  } finally {
    clearTimeout(timer);
  }
}

export { outcomeLine };
