import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../../agent/config/agent-config';
import { builtinExecutors } from '../../../agent/executors/builtin';
import { type Executor, TaskFailure } from '../../../agent/executors/executor';
import { MemoryTaskLogSink } from '../../../agent/logs/task-log-sink';
import { DeployAgent } from '../../../agent/runtime/deploy-agent';
import { type AgentLogger, jsonLogger } from '../../../agent/runtime/logger';
import type { TaskMessageV1 } from '../../../lambdas/agent-protocol';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/local-aws';
import { useSqsLocal } from '../../support/sqs';
import { gitRepository } from '../support/git-repo';
import { agentTask } from '../support/messages';
import { eventually, isRunning } from '../support/processes';
import { type SfnDouble, startSfnDouble } from '../support/sfn-double';

describe('deploy agent against fauxqs and a Step Functions double', () => {
  const sqsLocal = useSqsLocal();
  let sfnDouble: SfnDouble;
  let sfn: SFNClient;
  let agent: DeployAgent | undefined;
  let queueUrl = '';
  let queues = 0;
  const runs = new Map<string, number>();
  const secretFile = join(mkdtempSync(join(tmpdir(), 'agent-secret-')), 'api-token');
  writeFileSync(secretFile, 'tok-0123456789abcdef\n');

  const counting: Executor = {
    type: 'count',
    async execute({ message, log }) {
      runs.set(message.task_id, (runs.get(message.task_id) ?? 0) + 1);
      log.info('counting');
      return { counted: runs.get(message.task_id) ?? 0 };
    },
  };
  const huge: Executor = { type: 'huge', execute: async () => ({ report: 'x'.repeat(40 * 1024) }) };
  const leaky: Executor = {
    type: 'leaky',
    async execute({ readSecret, target }) {
      const token = await readSecret(target.secrets.api_token ?? '');
      throw new TaskFailure('DeployRejected', `the API refused token ${token}`);
    },
  };

  beforeAll(async () => {
    sfnDouble = await startSfnDouble();
    sfn = new SFNClient({
      endpoint: sfnDouble.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
  });
  afterEach(async () => {
    await agent?.stop(0);
    agent = undefined;
  });
  afterAll(async () => {
    sfn.destroy();
    await sfnDouble.stop();
  });

  const startAgent = async (workDir = mkdtempSync(join(tmpdir(), 'agent-work-')), log?: AgentLogger) => {
    queues += 1;
    queueUrl ||= sqsLocal.local.server.createQueue(`deploy-agent-${queues}`).queueUrl;
    const config = parseAgentConfig({
      queue: { url: queueUrl, region: LOCAL_REGION, endpoint: sqsLocal.local.endpoint, wait_seconds: 1 },
      work_dir: workDir,
      concurrency: 2,
      task_logs: { table: 'unused' },
      targets: [{ environment: 'staging', secrets: { api_token: secretFile } }],
    });
    const executors = builtinExecutors(config).register(counting).register(huge).register(leaky);
    const logSink = new MemoryTaskLogSink();
    agent = new DeployAgent({
      config,
      sqs: sqsLocal.client,
      sfn,
      executors,
      logSink,
      ...(log ? { log } : {}),
    });
    await agent.start();
    return { agent, logSink, workDir };
  };
  const send = (message: TaskMessageV1) =>
    sqsLocal.client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }),
    );
  const queueDepth = async () => {
    const { Attributes = {} } = await sqsLocal.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible)
    );
  };
  const answerOf = (message: TaskMessageV1) => eventually(() => sfnDouble.answersFor(message.task_token)[0]);

  it('runs the executor of the task type, answers with the token, logs the task, then deletes the message', async () => {
    const { logSink } = await startAgent();
    const message = agentTask({ type: 'count' });
    await send(message);
    const answer = await answerOf(message);
    expect(answer).toMatchObject({ action: 'SendTaskSuccess', output: '{"counted":1}' });
    await eventually(async () => (await queueDepth()) === 0);
    expect(logSink.text(message.task_id)).toContain('counting');
    expect(logSink.text(message.task_id)).toContain('deploy-agent: succeeded');
  });

  it('fails at once a task whose type has no executor or whose environment has no target', async () => {
    await startAgent();
    const unknown = agentTask({ type: 'launch_rocket' });
    const elsewhere = agentTask({ type: 'count', environment: { id: 'env_9', name: 'production' } });
    await send(unknown);
    await send(elsewhere);
    expect(await answerOf(unknown)).toMatchObject({
      action: 'SendTaskFailure',
      error: 'UnknownTaskType',
      cause: expect.stringContaining('"launch_rocket"'),
    });
    expect(await answerOf(elsewhere)).toMatchObject({
      action: 'SendTaskFailure',
      error: 'NoTarget',
      cause: expect.stringContaining('environment production (env_9)'),
    });
    expect(runs.has(elsewhere.task_id)).toBe(false);
  });

  it('answers a redelivered message from the journal without running the task again', async () => {
    const { workDir } = await startAgent();
    const message = agentTask({ type: 'count' });
    await send(message);
    await answerOf(message);
    await eventually(async () => (await queueDepth()) === 0);
    // SQS delivers at least once: the same message again, even to an agent started anew.
    await agent?.stop(0);
    await startAgent(workDir);
    await send(message);
    await eventually(() => sfnDouble.answersFor(message.task_token).length === 2);
    const [first, second] = sfnDouble.answersFor(message.task_token);
    expect(second).toMatchObject({
      action: 'SendTaskSuccess',
      output: first?.output,
      answer: 'TaskTimedOut',
    });
    expect(runs.get(message.task_id)).toBe(1);
    await eventually(async () => (await queueDepth()) === 0);
  });

  it('kills the running command when a heartbeat says the task timed out, and answers nothing', async () => {
    const running = await startAgent();
    const pidDir = mkdtempSync(join(tmpdir(), 'agent-pid-'));
    const repo = gitRepository({ 'README.md': 'test' });
    const message = agentTask({
      type: 'test',
      repository: repo.dir,
      commit: repo.commit,
      heartbeatSeconds: 1,
      config: { test_command: `sleep 60 & echo $! > ${pidDir}/pid; wait` },
    });
    await send(message);
    const grandchild = await eventually(() => {
      try {
        return Number(readFileSync(join(pidDir, 'pid'), 'utf8')) || undefined;
      } catch {
        return undefined;
      }
    });
    sfnDouble.cancel(message.task_token);
    await eventually(() => running.agent.stats().abandoned === 1);
    expect(isRunning(grandchild)).toBe(false);
    const calls = sfnDouble.callsFor(message.task_token);
    const refused = calls.findIndex((call) => call.answer === 'TaskTimedOut');
    // The refused heartbeat was the last call: no heartbeat after it, no answer at all.
    expect(calls[refused]?.action).toBe('SendTaskHeartbeat');
    expect(calls.slice(refused + 1)).toEqual([]);
    await eventually(async () => (await queueDepth()) === 0);
  });

  it('turns a result over 32 KiB into a failure saying so, and masks held secrets in causes', async () => {
    await startAgent();
    const big = agentTask({ type: 'huge' });
    const leak = agentTask({ type: 'leaky' });
    await send(big);
    await send(leak);
    expect(await answerOf(big)).toMatchObject({
      error: 'ResultTooLarge',
      cause: expect.stringContaining('32768'),
    });
    expect(await answerOf(leak)).toMatchObject({
      error: 'DeployRejected',
      cause: 'the API refused token ***',
    });
  });

  it("puts the agent's overhead before and after the executor on each answered task's log line", async () => {
    const lines: string[] = [];
    await startAgent(
      undefined,
      jsonLogger((line) => lines.push(line)),
    );
    const ran = agentTask({ type: 'count' });
    const unserved = agentTask({ type: 'count', environment: { id: 'env_9', name: 'production' } });
    await send(ran);
    await send(unserved);
    const answeredLine = (message: TaskMessageV1) =>
      eventually(() =>
        lines
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find(
            (line) =>
              line.task_id === message.task_id &&
              (line.message === 'task succeeded' || line.message === 'task failed'),
          ),
      );
    const succeeded = await answeredLine(ran);
    expect(succeeded).toMatchObject({
      level: 'info',
      message: 'task succeeded',
      receive_to_executor_ms: expect.any(Number),
      executor_ms: expect.any(Number),
      executor_to_answer_ms: expect.any(Number),
      executor_to_delete_ms: expect.any(Number),
      receive_to_delete_ms: expect.any(Number),
    });
    const timing = succeeded as Record<string, number>;
    // The line comes once the message is deleted: the delete follows the answer.
    expect(timing.executor_to_delete_ms).toBeGreaterThanOrEqual(timing.executor_to_answer_ms ?? Number.NaN);
    // Each field is rounded to 0.01 ms: the sum of two may pass the whole by a rounding step.
    expect(timing.receive_to_delete_ms).toBeGreaterThanOrEqual(
      (timing.receive_to_executor_ms ?? 0) + (timing.executor_ms ?? 0) - 0.02,
    );
    // Failed before any executor ran (no target): only the whole span.
    const failed = await answeredLine(unserved);
    expect(await queueDepth()).toBe(0);
    expect(failed).toMatchObject({
      message: 'task failed',
      error: 'NoTarget',
      receive_to_delete_ms: expect.any(Number),
    });
    expect(failed).not.toHaveProperty('receive_to_executor_ms');
    expect(failed).not.toHaveProperty('executor_ms');
  });
});
