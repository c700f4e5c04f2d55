import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskMessageV1 } from '../../../lambdas/agent-protocol';
import { LOCAL_REGION } from '../../../local/local-aws';
import { useTestTable } from '../../support/dynamodb';
import { useSqsLocal } from '../../support/sqs';
import { type AgentProcess, startAgentProcess, writeConfig } from '../support/agent-process';
import { gitRepository } from '../support/git-repo';
import { agentTask } from '../support/messages';
import { eventually, isRunning } from '../support/processes';
import { type SfnDouble, startSfnDouble } from '../support/sfn-double';

// The deploy-agent program itself, in its own process: crash and restart, signals, config errors.
describe('deploy-agent process', () => {
  const sqsLocal = useSqsLocal();
  const table = useTestTable();
  let sfnDouble: SfnDouble;
  const started: AgentProcess[] = [];
  const leftovers: number[] = [];
  let queues = 0;
  const repo = gitRepository({ 'README.md': 'agent process tests' });

  beforeAll(async () => {
    sfnDouble = await startSfnDouble();
  });
  afterEach(async () => {
    for (const agent of started.splice(0))
      if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
  afterAll(async () => {
    await sfnDouble.stop();
  });

  function setUp(options: { graceSeconds?: number } = {}) {
    queues += 1;
    const queueUrl = sqsLocal.local.server.createQueue(`agent-process-${queues}`).queueUrl;
    const workDir = mkdtempSync(join(tmpdir(), 'agent-process-'));
    const configFile = writeConfig(workDir, {
      queue: { url: queueUrl, region: LOCAL_REGION, endpoint: sqsLocal.local.endpoint, wait_seconds: 1 },
      step_functions: { endpoint: sfnDouble.endpoint },
      work_dir: join(workDir, 'work'),
      task_logs: { table: table.tableName, endpoint: table.endpoint },
      shutdown_grace_seconds: options.graceSeconds ?? 30,
      targets: [{ environment: 'env_1' }],
    });
    const start = () => {
      const agent = startAgentProcess(configFile);
      started.push(agent);
      return agent;
    };
    const send = (message: TaskMessageV1) =>
      sqsLocal.client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }),
      );
    return { start, send, workDir };
  }

  /** A test task whose command records its process group id (for clean-up) and then runs `script`. */
  const commandTask = (workDir: string, script: string) =>
    agentTask({
      type: 'test',
      repository: repo.dir,
      commit: repo.commit,
      heartbeatSeconds: 3,
      config: { test_command: `echo $$ > ${workDir}/group; ${script}` },
    });
  const groupOf = (workDir: string) =>
    eventually(() => {
      try {
        const pid = Number(readFileSync(join(workDir, 'group'), 'utf8'));
        if (pid > 0) leftovers.push(pid);
        return pid || undefined;
      } catch {
        return undefined;
      }
    });
  const isStarted = (message: TaskMessageV1) => (line: { message: string; task_id?: string }) =>
    line.message === 'task started' && line.task_id === message.task_id;

  it('after kill -9 mid-task, the restarted agent fails the task at once with AgentRestarted', async () => {
    const { start, send, workDir } = setUp();
    const message = commandTask(workDir, 'echo "step one done"; sleep 60');
    const first = start();
    await send(message);
    await first.waitForLog(isStarted(message));
    await groupOf(workDir);
    // The log reaches the table while the task still runs.
    await eventually(async () => {
      const { Items = [] } = await table.documentClient.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `TASKLOG#${message.task_id}` },
        }),
      );
      return Items.some((item) => JSON.stringify(item.lines).includes('step one done'));
    });
    first.child.kill('SIGKILL');
    await first.exited();
    expect(sfnDouble.answersFor(message.task_token)).toEqual([]);

    const second = start();
    const answer = await eventually(() => sfnDouble.answersFor(message.task_token)[0], 30_000);
    expect(answer).toMatchObject({ action: 'SendTaskFailure', error: 'AgentRestarted' });
    await second.waitForLog((line) => line.message === 'agent started');
    expect(second.logs.some(isStarted(message))).toBe(false);
  });

  it('SIGTERM drains: a task that finishes within the grace period is answered, then the agent exits 0', async () => {
    const { start, send, workDir } = setUp({ graceSeconds: 60 });
    const message = commandTask(workDir, 'sleep 4; echo finished');
    const agent = start();
    await send(message);
    await agent.waitForLog(isStarted(message));
    const heartbeats = () =>
      sfnDouble.callsFor(message.task_token).filter((call) => call.action === 'SendTaskHeartbeat');
    agent.child.kill('SIGTERM');
    await agent.waitForLog((line) => line.message.startsWith('draining'));
    const beforeDrain = heartbeats().length;
    expect(await agent.exited()).toBe(0);
    expect(sfnDouble.answersFor(message.task_token)).toMatchObject([{ action: 'SendTaskSuccess' }]);
    // It kept heartbeating while it drained.
    expect(heartbeats().length).toBeGreaterThan(beforeDrain);
  });

  it('SIGTERM past the grace period kills the task and fails it with AgentShutdown, then exits 0', async () => {
    const { start, send, workDir } = setUp({ graceSeconds: 1 });
    const message = commandTask(workDir, 'sleep 60');
    const agent = start();
    await send(message);
    await agent.waitForLog(isStarted(message));
    const group = await groupOf(workDir);
    agent.child.kill('SIGTERM');
    expect(await agent.exited()).toBe(0);
    expect(sfnDouble.answersFor(message.task_token)).toMatchObject([
      {
        action: 'SendTaskFailure',
        error: 'AgentShutdown',
        cause: expect.stringContaining('1 s grace period'),
      },
    ]);
    expect(isRunning(group)).toBe(false);
  });

  it('a wrong config stops the start with one line naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    const configFile = writeConfig(dir, {
      queue: { url: 'http://127.0.0.1:1/000000000000/q', region: 'us-east-1' },
      work_dir: dir,
      task_logs: { table: 'deploy-manager' },
      targets: [
        { environment: 'production', ssh: { private_key_path: '/keys/id', known_hosts: '/keys/known' } },
      ],
    });
    const agent = startAgentProcess(configFile);
    started.push(agent);
    expect(await agent.exited()).toBe(2);
    expect(agent.stderr()).toBe('error: config targets[0].ssh.user: Required\n');
    expect(agent.logs).toEqual([]);
  });
});
