import type { Task, TaskStatus } from '../api/types';

export interface Progress {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  readonly pending: number;
  /** whole percent of tasks finished successfully */
  readonly percent: number;
  /** one status for the whole set: failed wins, then running, then pending; success only when all succeeded */
  readonly status: TaskStatus;
}

export function progressOf(tasks: readonly Pick<Task, 'status'>[]): Progress {
  const count = (status: TaskStatus) => tasks.filter((task) => task.status === status).length;
  const succeeded = count('success');
  const failed = count('failed');
  const running = count('running');
  const pending = count('pending');
  const total = tasks.length;
  const status: TaskStatus =
    failed > 0
      ? 'failed'
      : running > 0
        ? 'running'
        : total > 0 && succeeded === total
          ? 'success'
          : succeeded > 0
            ? 'running'
            : 'pending';
  return {
    total,
    succeeded,
    failed,
    running,
    pending,
    percent: total === 0 ? 0 : Math.floor((succeeded * 100) / total),
    status,
  };
}

/** How long a task ran (or has been running, at `now`), as `1m 05s`; "" before it started. */
export function elapsedOf(task: Pick<Task, 'started_at' | 'completed_at'>, now: Date): string {
  if (task.started_at === null) return '';
  const start = Date.parse(task.started_at);
  const end = task.completed_at === null ? now.getTime() : Date.parse(task.completed_at);
  const seconds = Math.max(0, Math.round((end - start) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

export const isFinished = (status: TaskStatus) => status === 'success' || status === 'failed';
