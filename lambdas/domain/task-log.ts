import * as z from 'zod';
import { MAX_CURSOR_LENGTH, queryInteger } from './common';

export const TaskLogLineView = z
  .object({
    /** the task attempt that wrote the line (1, then one more per retry) */
    attempt: z.number().int().min(1),
    at: z.string().describe('when the agent saw the line (ISO-8601 UTC, milliseconds)'),
    stream: z.enum(['stdout', 'stderr', 'agent']),
    text: z.string(),
  })
  .meta({ id: 'TaskLogLine' });
export type TaskLogLineView = z.infer<typeof TaskLogLineView>;

export const MAX_LOG_LINES_PER_ANSWER = 2000;

export const TaskLogRequest = z.strictObject({
  cursor: z
    .string()
    .min(1)
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .describe('next_cursor of the previous answer: the lines written after it'),
  limit: queryInteger('limit', MAX_LOG_LINES_PER_ANSWER, 500).describe(
    'about this many lines at most (whole chunks as the agent wrote them)',
  ),
});
export type TaskLogRequest = z.infer<typeof TaskLogRequest>;

export const TaskLogResponse = z
  .object({
    task_id: z.string(),
    lines: z.array(TaskLogLineView),
    next_cursor: z
      .string()
      .describe(
        'pass it back as `cursor` to get the lines written since; always present, so a follower can poll',
      ),
    complete: z
      .boolean()
      .describe('the task has finished and every line it logged has been read: nothing more will come'),
  })
  .meta({ id: 'TaskLogResponse' });
export type TaskLogResponse = z.infer<typeof TaskLogResponse>;
