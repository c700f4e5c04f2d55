import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { TaskLogChunk, taskLogPartition } from '../agent-protocol/task-log';
import { InvalidInput } from '../domain/errors';
import type { TaskLogLineView } from '../domain/task-log';
import type { StoreContext } from './store-context';

export interface TaskLogPage {
  readonly lines: readonly TaskLogLineView[];
  /** continues after the last chunk read (or where the caller's cursor was) */
  readonly nextCursor: string;
  /** no chunk after the ones read when this was answered */
  readonly drained: boolean;
}

export interface TaskLogRepository {
  /** The lines after `cursor` (from the start without one), about `limit` of them, in order. */
  read(taskId: string, cursor: string | undefined, limit: number): Promise<TaskLogPage>;
}

const LogCursor = z.strictObject({ s: z.string().regex(/^A\d{4}#\d{10}$/) });
const CHUNKS_PER_READ = 10;
/** Before the first chunk of the first attempt. */
const START = 'A0000#0000000000';

const encode = (sortKey: string) => Buffer.from(JSON.stringify({ s: sortKey }), 'utf8').toString('base64url');

function decode(cursor: string): string {
  try {
    return LogCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).s;
  } catch {
    throw new InvalidInput('Invalid request query', [
      { field: 'cursor', message: 'not a log cursor this API handed out' },
    ]);
  }
}

/** A task's log chunks as agents write them (agent-protocol/task-log.ts), read in order. */
export function createTaskLogRepository(context: StoreContext): TaskLogRepository {
  return {
    async read(taskId, cursor, limit) {
      let after = cursor === undefined ? START : decode(cursor);
      const lines: TaskLogLineView[] = [];
      for (;;) {
        const page = await context.client.send(
          new QueryCommand({
            TableName: context.tableName,
            KeyConditionExpression: 'pk = :pk AND sk > :after',
            ExpressionAttributeValues: { ':pk': taskLogPartition(taskId), ':after': after },
            // Chunks hold up to 500 lines; a few at a time keeps an answer near `limit`.
            Limit: CHUNKS_PER_READ,
          }),
        );
        const items = page.Items ?? [];
        for (const item of items) {
          const chunk = TaskLogChunk.safeParse(item);
          // A malformed chunk (an agent's bug) is skipped, never answered as a 500.
          if (chunk.success) {
            lines.push(...chunk.data.lines.map((line) => ({ attempt: chunk.data.attempt, ...line })));
          }
          if (typeof item.sk === 'string') after = item.sk;
          if (lines.length >= limit) return { lines, nextCursor: encode(after), drained: false };
        }
        if (!page.LastEvaluatedKey) return { lines, nextCursor: encode(after), drained: true };
      }
    },
  };
}
