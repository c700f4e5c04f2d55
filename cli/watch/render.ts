import type { Task } from '../../lambdas/domain/task';
import { type ApplicationView, outcomeOf, type WatchSnapshot } from './model';

export const STATUS_SYMBOL: Readonly<Record<Task['status'], string>> = {
  pending: '○',
  running: '●',
  success: '✓',
  failed: '✗',
};

/** `0s`, `12s`, `3m04s`, `1h02m` (the API's timestamps have whole seconds). */
export function formatElapsed(milliseconds: number): string {
  const seconds = Math.floor(Math.max(0, milliseconds) / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function elapsedOf(
  startedAt: string | null | undefined,
  completedAt: string | null | undefined,
  now: Date,
): number | undefined {
  if (!startedAt) return undefined;
  const end = completedAt ? Date.parse(completedAt) : now.getTime();
  return end - Date.parse(startedAt);
}

function stepLabel(task: Task, now: Date): string {
  const elapsed = elapsedOf(task.started_at, task.completed_at, now);
  const name = task.attempt > 1 ? `${task.step_id} (attempt ${task.attempt})` : task.step_id;
  return `${STATUS_SYMBOL[task.status]} ${name}${elapsed === undefined ? '' : ` ${formatElapsed(elapsed)}`}`;
}

function truncate(line: string, width: number | undefined): string {
  if (width === undefined || [...line].length <= width) return line;
  return `${[...line].slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** One line per application: name, its steps in pipeline order, the running step's latest log line. */
export function applicationLine(application: ApplicationView, nameWidth: number, now: Date): string {
  const steps =
    application.tasks.length === 0
      ? 'waiting for tasks'
      : application.tasks.map((task) => stepLabel(task, now)).join('  ');
  const log = application.latestLine ? `  │ ${application.latestLine.trim()}` : '';
  return `${application.name.padEnd(nameWidth)}  ${steps}${log}`;
}

export function headerLine(snapshot: WatchSnapshot, now: Date, withElapsed = true): string {
  const deployment = snapshot.deployment;
  if (deployment === undefined) return `deployment ${snapshot.deploymentId}  waiting for it to appear…`;
  const target = [snapshot.versionLabel, snapshot.environmentLabel].filter(Boolean).join(' → ');
  const elapsed = elapsedOf(deployment.started_at ?? deployment.created_at, deployment.completed_at, now);
  const took = withElapsed && elapsed !== undefined ? `  ${formatElapsed(elapsed)}` : '';
  return `deployment ${deployment.id}  ${target}  ${deployment.status}${took}`;
}

/** The final line: how it ended, and why when it failed. */
export function outcomeLine(snapshot: WatchSnapshot, now: Date): string | undefined {
  const deployment = snapshot.deployment;
  const outcome = outcomeOf(deployment);
  if (deployment === undefined || outcome === undefined) return undefined;
  const elapsed = elapsedOf(deployment.started_at ?? deployment.created_at, deployment.completed_at, now);
  const took = elapsed === undefined ? '' : ` in ${formatElapsed(elapsed)}`;
  if (outcome === 'success') return `✓ deployment ${deployment.id} succeeded${took}`;
  if (outcome === 'cancelled') return `✗ deployment ${deployment.id} was cancelled${took}`;
  return `✗ deployment ${deployment.id} failed${took}: ${deployment.error_message}`;
}

/** The whole live view, as a person sees it in a terminal of `width` columns. */
export function renderSnapshot(snapshot: WatchSnapshot, now: Date, width?: number): string[] {
  const nameWidth = Math.max(0, ...snapshot.applications.map((application) => application.name.length));
  const lines = [
    headerLine(snapshot, now),
    ...snapshot.applications.map((application) => `  ${applicationLine(application, nameWidth, now)}`),
  ];
  const outcome = outcomeLine(snapshot, now);
  if (outcome !== undefined) lines.push(outcome);
  return lines.map((line) => truncate(line, width));
}

/**
 * The plain form's lines for what changed between two snapshots: a line when a step
 * changes status, and each new log line. Nothing is printed when nothing changed.
 */
export function plainChanges(
  previous: WatchSnapshot | undefined,
  next: WatchSnapshot,
  newLogLines: readonly { taskId: string; text: string }[],
  now: Date,
): string[] {
  const lines: string[] = [];
  if (previous?.deployment === undefined && next.deployment !== undefined)
    lines.push(headerLine(next, now, false));
  const before = new Map<string, Task>();
  for (const application of previous?.applications ?? [])
    for (const task of application.tasks) before.set(task.id, task);
  for (const application of next.applications) {
    for (const task of application.tasks) {
      const old = before.get(task.id);
      if (old !== undefined && old.status === task.status && old.attempt === task.attempt) continue;
      if (old === undefined && task.status === 'pending') continue;
      const elapsed =
        task.status === 'success' || task.status === 'failed'
          ? elapsedOf(task.started_at, task.completed_at, now)
          : undefined;
      lines.push(
        `${application.name} ${task.step_id}: ${STATUS_SYMBOL[task.status]} ${task.status}${elapsed === undefined ? '' : ` (${formatElapsed(elapsed)})`}`,
      );
    }
  }
  const stepOf = new Map<string, string>();
  for (const application of next.applications)
    for (const task of application.tasks) stepOf.set(task.id, `${application.name} ${task.step_id}`);
  for (const line of newLogLines) lines.push(`${stepOf.get(line.taskId) ?? line.taskId} │ ${line.text}`);
  const outcome = outcomeLine(next, now);
  if (outcome !== undefined && outcomeOf(previous?.deployment) === undefined) lines.push(outcome);
  return lines;
}
