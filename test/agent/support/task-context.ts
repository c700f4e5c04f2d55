import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentTarget } from '../../../agent/config/target';
import type { TaskContext } from '../../../agent/executors/executor';
import { SecretMasker } from '../../../agent/logs/secret-masker';
import { TaskLogWriter } from '../../../agent/logs/task-log';
import { MemoryTaskLogSink } from '../../../agent/logs/task-log-sink';
import { parseTaskPayload, type TaskMessageV1 } from '../../../lambdas/agent-protocol';

/** A TaskContext as the runtime builds it, with a memory log, for running one executor. */
export function taskContext(
  message: TaskMessageV1,
  target: Partial<AgentTarget> = {},
  signal: AbortSignal = new AbortController().signal,
): TaskContext & { sink: MemoryTaskLogSink; writer: TaskLogWriter; masker: SecretMasker } {
  const sink = new MemoryTaskLogSink();
  const masker = new SecretMasker();
  const writer = new TaskLogWriter({ taskId: message.task_id, attempt: message.attempt, sink, masker });
  return {
    message,
    payload: parseTaskPayload(message),
    target: { environment: 'staging', secrets: {}, ...target },
    workDir: mkdtempSync(join(tmpdir(), 'agent-task-')),
    signal,
    log: writer,
    readSecret: async (path) => {
      const value = readFileSync(path, 'utf8').trim();
      masker.add(value);
      return value;
    },
    sink,
    writer,
    masker,
  };
}
