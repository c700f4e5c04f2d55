import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

/** One line of a task's log as the API serves it. */
export interface TaskLogLine {
  /** ISO-8601 UTC with milliseconds */
  readonly at: string;
  readonly stream: 'stdout' | 'stderr' | 'agent';
  readonly text: string;
}

/** A run of lines of one task attempt, written as one item. */
export interface TaskLogChunk {
  readonly taskId: string;
  readonly attempt: number;
  /** 0, 1, 2, … within the attempt */
  readonly chunk: number;
  readonly lines: readonly TaskLogLine[];
  /** UTF-8 bytes of the lines' text */
  readonly bytes: number;
}

/** Where task logs go: DynamoDB in the agent, memory in tests. */
export interface TaskLogSink {
  write(chunk: TaskLogChunk, signal?: AbortSignal): Promise<void>;
}

export const taskLogKey = (taskId: string, attempt: number, chunk: number) => ({
  pk: `TASKLOG#${taskId}`,
  sk: `A${String(attempt).padStart(4, '0')}#${String(chunk).padStart(10, '0')}`,
});

export const DEFAULT_TASK_LOG_RETENTION_DAYS = 30;

/**
 * Task-log items in the service's table (read by `GET /tasks/{id}/logs`): one PutItem per
 * chunk, only under `TASKLOG#` keys (the agent's IAM policy allows nothing else), expiring
 * after the retention through the table's TTL attribute `expires_at`.
 */
export class DynamoDbTaskLogSink implements TaskLogSink {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays = DEFAULT_TASK_LOG_RETENTION_DAYS,
    private readonly now: () => number = Date.now,
  ) {}

  async write(chunk: TaskLogChunk, signal?: AbortSignal): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...taskLogKey(chunk.taskId, chunk.attempt, chunk.chunk),
          task_id: chunk.taskId,
          attempt: chunk.attempt,
          chunk: chunk.chunk,
          lines: chunk.lines.map((line) => ({ at: line.at, stream: line.stream, text: line.text })),
          bytes: chunk.bytes,
          expires_at: Math.floor(this.now() / 1000) + this.retentionDays * 86_400,
        },
      }),
      signal ? { abortSignal: signal } : undefined,
    );
  }
}

/** Keeps every chunk; for tests and for `--log-sink memory` style runs. */
export class MemoryTaskLogSink implements TaskLogSink {
  readonly chunks: TaskLogChunk[] = [];

  async write(chunk: TaskLogChunk): Promise<void> {
    this.chunks.push(chunk);
  }

  /** the lines of one attempt in order */
  lines(taskId: string, attempt = 1): TaskLogLine[] {
    return this.chunks
      .filter((chunk) => chunk.taskId === taskId && chunk.attempt === attempt)
      .sort((a, b) => a.chunk - b.chunk)
      .flatMap((chunk) => chunk.lines);
  }

  text(taskId: string, attempt = 1): string {
    return this.lines(taskId, attempt)
      .map((line) => line.text)
      .join('\n');
  }
}
