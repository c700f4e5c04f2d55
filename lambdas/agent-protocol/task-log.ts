import * as z from 'zod';

/**
 * Where agents write a task's log while it runs, and how: items in the service's table under
 * `TASKLOG#<task id>`, one per flush (a chunk of lines). The agent's IAM policy allows writes
 * under that leading key only; `GET /api/v1/tasks/{id}/logs` reads them in order.
 */
export const TASK_LOG = {
  /** partition key prefix: `TASKLOG#<task id>` */
  keyPrefix: 'TASKLOG#',
  /** a chunk is at most this many lines … */
  maxLinesPerChunk: 500,
  /** … and this many bytes of text */
  maxChunkBytes: 64 * 1024,
  /** bytes of text one task attempt may log; past it the agent writes one last line and drops the rest */
  maxBytesPerAttempt: 5 * 1024 * 1024,
  /** how long chunks are kept (the table's TTL deletes them after) */
  retentionDays: 30,
  /** flush at least this often while a task writes */
  flushIntervalMs: 1000,
} as const;

export const TaskLogStream = z.enum(['stdout', 'stderr', 'agent']);
export type TaskLogStream = z.infer<typeof TaskLogStream>;

export const TaskLogLine = z.object({
  /** when the agent saw the line: ISO-8601 UTC with milliseconds */
  at: z.string(),
  stream: TaskLogStream,
  text: z.string(),
});
export type TaskLogLine = z.infer<typeof TaskLogLine>;

/** `A0001#0000000007`: attempt, then chunk, so a Query reads attempts and chunks in order. */
export const taskLogSortKey = (attempt: number, chunk: number): string =>
  `A${String(attempt).padStart(4, '0')}#${String(chunk).padStart(10, '0')}`;

export const taskLogPartition = (taskId: string): string => `${TASK_LOG.keyPrefix}${taskId}`;

/** One stored chunk, as agents put it (PutItem) and the API reads it. */
export const TaskLogChunk = z.object({
  pk: z.string().startsWith(TASK_LOG.keyPrefix),
  sk: z.string().regex(/^A\d{4}#\d{10}$/),
  task_id: z.string(),
  attempt: z.number().int().min(1),
  chunk: z.number().int().min(0),
  lines: z.array(TaskLogLine).max(TASK_LOG.maxLinesPerChunk),
  bytes: z.number().int().min(0),
  /** epoch seconds: the table's TTL attribute */
  expires_at: z.number().int(),
});
export type TaskLogChunk = z.infer<typeof TaskLogChunk>;

/** The item of a chunk of lines; `now` in epoch milliseconds. */
export function taskLogChunkItem(
  taskId: string,
  attempt: number,
  chunk: number,
  lines: readonly TaskLogLine[],
  now: number,
): TaskLogChunk {
  return {
    pk: taskLogPartition(taskId),
    sk: taskLogSortKey(attempt, chunk),
    task_id: taskId,
    attempt,
    chunk,
    lines: [...lines],
    bytes: lines.reduce((total, line) => total + Buffer.byteLength(line.text, 'utf8'), 0),
    expires_at: Math.floor(now / 1000) + TASK_LOG.retentionDays * 24 * 3600,
  };
}
