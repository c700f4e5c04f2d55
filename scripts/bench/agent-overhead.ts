import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseAgentConfig } from '../../agent/config/agent-config';
import type { Executor } from '../../agent/executors/executor';
import { ExecutorRegistry } from '../../agent/executors/registry';
import { DynamoDbTaskLogSink, type TaskLogChunk, type TaskLogSink } from '../../agent/logs/task-log-sink';
import { DeployAgent } from '../../agent/runtime/deploy-agent';
import type { AgentLogger } from '../../agent/runtime/logger';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import { type SqsLocal, startSqsLocal } from '../../local/sqs-local';
import { agentTask } from '../../test/agent/support/messages';
import { type SfnDouble, startSfnDouble } from '../../test/agent/support/sfn-double';
import { forEachLimited } from './concurrency';
import type { BenchContext } from './context';
import { markdownTable } from './markdown';
import { type LatencySummary, ms, summarize } from './stats';

/**
 * The deploy agent's own cost per task: the real DeployAgent in process against fauxqs
 * (SQS), the Step Functions double of the agent tests (the real JSON protocol over HTTP)
 * and its task-log sink writing to DynamoDB Local, with an executor that returns at once.
 * The figures are the timing fields of the agent's "task succeeded" log line
 * (docs/agent.md), so they are what an operator reads from a real agent. The queue is
 * filled first, so the agent always has work: at concurrency 8 a task's overhead includes
 * waiting for the event loop behind the other seven.
 */

const CONCURRENCIES = [1, 8] as const;
const WARM_UP = 30;
const SAMPLES = 300;
const TASK_TYPE = 'bench_noop';
/** An answered task the agent takes longer than this over is a broken run, not a sample. */
const RUN_TIMEOUT_MS = 60_000;

const noop: Executor = { type: TASK_TYPE, execute: async () => ({}) };

interface TaskTiming {
  readonly receive_to_executor_ms: number;
  readonly executor_to_answer_ms: number;
  readonly executor_to_delete_ms: number;
  readonly receive_to_delete_ms: number;
}

const isTaskTiming = (fields: Record<string, unknown>): fields is Record<string, unknown> & TaskTiming =>
  ['receive_to_executor_ms', 'executor_to_answer_ms', 'executor_to_delete_ms', 'receive_to_delete_ms'].every(
    (name) => typeof fields[name] === 'number',
  );

/** The task-log sink of the agent, timing each PutItem (one per task here: the log is short). */
class TimedSink implements TaskLogSink {
  readonly writes: number[] = [];
  constructor(private readonly inner: TaskLogSink) {}

  async write(chunk: TaskLogChunk, signal?: AbortSignal): Promise<void> {
    const started = performance.now();
    await this.inner.write(chunk, signal);
    this.writes.push(performance.now() - started);
  }
}

interface RunResult {
  readonly concurrency: number;
  readonly before: LatencySummary;
  readonly answered: LatencySummary;
  readonly deleted: LatencySummary;
  readonly total: LatencySummary;
  readonly logWrite: LatencySummary;
  readonly tasksPerSecond: number;
}

async function runAt(
  concurrency: number,
  parts: { sqsLocal: SqsLocal; sqs: SQSClient; sfn: SFNClient; context: BenchContext },
): Promise<RunResult> {
  const { sqsLocal, sqs, sfn, context } = parts;
  const queueUrl = sqsLocal.server.createQueue(`bench-agent-overhead-${concurrency}`).queueUrl;
  const { store } = await context.newTable();
  const workDir = await mkdtemp(join(tmpdir(), 'bench-agent-'));
  const count = WARM_UP + SAMPLES;
  const messages = Array.from({ length: count }, () => agentTask({ type: TASK_TYPE }));
  await forEachLimited(Math.ceil(count / 10), 4, async (batch) => {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(batch * 10, batch * 10 + 10).map((message, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(message),
        })),
      }),
    );
  });

  const timings: TaskTiming[] = [];
  const problems: string[] = [];
  let measuredFrom = 0;
  let done: () => void = () => undefined;
  const allAnswered = new Promise<void>((resolve) => {
    done = resolve;
  });
  const log: AgentLogger = (level, message, fields = {}) => {
    if (level === 'warn' || level === 'error' || message === 'task failed') {
      problems.push(`${message} ${JSON.stringify(fields)}`);
      done();
      return;
    }
    if (message !== 'task succeeded' || !isTaskTiming(fields)) return;
    timings.push(fields);
    if (timings.length === WARM_UP) measuredFrom = performance.now();
    if (timings.length === count) done();
  };

  const config = parseAgentConfig({
    queue: { url: queueUrl, region: LOCAL_REGION, endpoint: sqsLocal.endpoint, wait_seconds: 1 },
    work_dir: workDir,
    concurrency,
    task_logs: { table: store.tableName },
    targets: [{ environment: 'staging' }],
  });
  const sink = new TimedSink(new DynamoDbTaskLogSink(store.client, store.tableName));
  const agent = new DeployAgent({
    config,
    sqs,
    sfn,
    logSink: sink,
    executors: new ExecutorRegistry().register(noop),
    log,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await agent.start();
    await Promise.race([
      allAnswered,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`agent-overhead: ${timings.length} of ${count} tasks answered in time`)),
          RUN_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await agent.stop(5_000);
    await rm(workDir, { recursive: true, force: true });
  }
  if (problems.length > 0) throw new Error(`agent-overhead: the agent reported ${problems.join('; ')}`);
  const measured = timings.slice(WARM_UP);
  const pick = (name: keyof TaskTiming) => summarize(measured.map((timing) => timing[name]));
  return {
    concurrency,
    before: pick('receive_to_executor_ms'),
    answered: pick('executor_to_answer_ms'),
    deleted: pick('executor_to_delete_ms'),
    total: pick('receive_to_delete_ms'),
    logWrite: summarize(sink.writes.slice(WARM_UP)),
    tasksPerSecond: (SAMPLES * 1000) / (performance.now() - measuredFrom),
  };
}

export async function runAgentOverheadBench(context: BenchContext): Promise<string> {
  const sqsLocal = await startSqsLocal({ port: 0 });
  const sfnDouble: SfnDouble = await startSfnDouble();
  const client = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient({ ...client, endpoint: sqsLocal.endpoint });
  const sfn = new SFNClient({ ...client, endpoint: sfnDouble.endpoint });
  const results: RunResult[] = [];
  try {
    for (const concurrency of CONCURRENCIES)
      results.push(await runAt(concurrency, { sqsLocal, sqs, sfn, context }));
  } finally {
    sqs.destroy();
    sfn.destroy();
    await sfnDouble.stop();
    await sqsLocal.stop();
  }
  const pair = (summary: LatencySummary) => [ms(summary.p50), ms(summary.p95)];
  return [
    `${SAMPLES} tasks per row after ${WARM_UP} of warm-up; queue filled first; executor returns at once.`,
    '',
    markdownTable(
      [
        'concurrency',
        'receive → executor start p50 ms',
        'p95',
        'executor end → answered p50 ms',
        'p95',
        'executor end → deleted p50 ms',
        'p95',
        'receive → deleted p50 ms',
        'p95',
        'tasks/s',
      ],
      results.map((result) => [
        result.concurrency,
        ...pair(result.before),
        ...pair(result.answered),
        ...pair(result.deleted),
        ...pair(result.total),
        result.tasksPerSecond.toFixed(0),
      ]),
      [false, true, true, true, true, true, true, true, true, true],
    ),
    '',
    markdownTable(
      ['concurrency', 'task log PutItem (DynamoDB Local) p50 ms', 'p95'],
      results.map((result) => [result.concurrency, ...pair(result.logWrite)]),
      [false, true, true],
    ),
  ].join('\n');
}
