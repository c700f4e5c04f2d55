import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskMessageV1 } from '../../lambdas/agent-protocol';
import { SimulatedAgent } from '../../local/agent/simulated-agent';
import { failingTypes, simulatedFailure, simulatedResult, simulationOf } from '../../local/agent/simulation';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import { type SqsLocal, startSqsLocal } from '../../local/sqs-local';

let counter = 0;
function taskMessage(
  overrides: Partial<TaskMessageV1> = {},
  config: TaskMessageV1['payload'] = {},
): TaskMessageV1 {
  counter += 1;
  return {
    protocol_version: '1',
    task_id: `task_${counter}`,
    task_type: 'build',
    step_id: overrides.task_type ?? 'build',
    deployment_id: 'dep_1',
    application_id: 'app_1',
    environment_id: 'env_1',
    version_id: 'ver_1',
    attempt: 1,
    payload: {
      config: { tags: ['org/api:v1.0.0', 'org/api:latest'], ...config },
      application: { id: 'app_1', name: 'api-service' },
      version: { id: 'ver_1', git_tag: 'v1.0.0' },
    },
    task_token: `AQ${'t'.repeat(20)}${counter}`,
    heartbeat_seconds: 120,
    timeout_seconds: 3600,
    ...overrides,
  };
}

describe('simulation', () => {
  it('reports plausible results per task type', () => {
    expect(simulatedResult(taskMessage())).toMatchObject({
      image: 'org/api:v1.0.0',
      artifact_url: expect.stringContaining('api-service'),
    });
    const noTags = taskMessage({ payload: { application: { name: 'web' }, version: { git_tag: 'v2' } } });
    expect(simulatedResult(noTags)).toMatchObject({ image: 'web:v2' });
    const test = simulatedResult(taskMessage({ task_type: 'test' }, { coverage_threshold: 80 }));
    expect(test).toMatchObject({ passed: expect.any(Number), failed: 0 });
    expect(test.coverage).toBeGreaterThanOrEqual(80);
    expect(simulatedResult(taskMessage({ task_type: 'deploy' }, { replicas: 5 }))).toMatchObject({
      replicas: 5,
      revision: expect.any(Number),
    });
    expect(simulatedResult(taskMessage({ task_type: 'deploy_green' }))).toMatchObject({ replicas: 3 });
    expect(
      simulatedResult(
        taskMessage({ task_type: 'health_check' }, { endpoint: '/ready', expected_status: 204 }),
      ),
    ).toEqual({ status: 204, endpoint: '/ready' });
    expect(simulatedResult(taskMessage({ task_type: 'health_check' }))).toEqual({
      status: 200,
      endpoint: '/health',
    });
    expect(
      simulatedResult(taskMessage({ task_type: 'switch_traffic' }, { from: 'blue', to: 'green' })),
    ).toEqual({ from: 'blue', to: 'green' });
    expect(simulatedResult(taskMessage({ task_type: 'cleanup_blue' }))).toEqual({ removed: 'blue' });
  });

  it('fails the listed types on the first attempt only, with the configured delay', () => {
    expect([...failingTypes(' health_check, deploy ,')]).toEqual(['health_check', 'deploy']);
    expect([...failingTypes(['test'])]).toEqual(['test']);
    const config = { simulate_fail: 'health_check', simulate_delay_ms: '250' };
    expect(simulationOf(taskMessage({ task_type: 'health_check' }, config), 20)).toEqual({
      delayMs: 250,
      fail: true,
    });
    expect(simulationOf(taskMessage({ task_type: 'health_check', attempt: 2 }, config), 20).fail).toBe(false);
    expect(simulationOf(taskMessage({ task_type: 'build' }, config), 20).fail).toBe(false);
    expect(simulationOf(taskMessage(), 20).delayMs).toBe(20);
    expect(simulatedFailure(taskMessage({ task_type: 'health_check' }))).toMatchObject({
      error: 'HealthCheckFailed',
    });
    expect(simulatedFailure(taskMessage({ task_type: 'deploy_green' })).error).toBe('DeployGreenFailed');
  });
});

describe('simulated agent (fauxqs and a mocked Step Functions)', () => {
  let queue: SqsLocal;
  let sqs: SQSClient;
  const sfnClient = new SFNClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const sfn = mockClient(sfnClient);
  let agent: SimulatedAgent | undefined;
  // A queue per test: a long poll cut by stop() may still take a message on the server side,
  // which then stays invisible for the visibility timeout (as on SQS).
  let queueUrl = '';
  let queues = 0;

  beforeEach(() => {
    queues += 1;
    queueUrl = queue.server.createQueue(`agent-test-${queues}`).queueUrl;
  });

  beforeAll(async () => {
    queue = await startSqsLocal({ port: 0 });
    sqs = new SQSClient({ endpoint: queue.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  });

  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    sfn.reset();
  });

  afterAll(async () => {
    sqs.destroy();
    await queue.stop();
  });

  const startAgent = (options: { concurrency?: number; defaultDelayMs?: number } = {}) => {
    agent = new SimulatedAgent({
      sqs,
      sfn: sfnClient,
      queueUrl,
      waitTimeSeconds: 1,
      ...options,
    });
    agent.start();
    return agent;
  };
  const send = (body: unknown) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  const queueDepth = async () => {
    const { Attributes = {} } = await sqs.send(
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
  const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('answers each task with its token, then deletes the message', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const message = taskMessage();
    await send(message);
    const running = startAgent();
    await until(() => sfn.commandCalls(SendTaskSuccessCommand).length === 1);
    const [call] = sfn.commandCalls(SendTaskSuccessCommand);
    expect(call?.args[0].input.taskToken).toBe(message.task_token);
    expect(JSON.parse(call?.args[0].input.output ?? '{}')).toMatchObject({ image: 'org/api:v1.0.0' });
    await until(async () => (await queueDepth()) === 0);
    expect(running.stats()).toMatchObject({ received: 1, succeeded: 1, failed: 0 });
  });

  it('fails a simulate_fail task on attempt 1 and succeeds on attempt 2', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
    const first = taskMessage({ task_type: 'health_check' }, { simulate_fail: 'health_check' });
    await send(first);
    startAgent();
    await until(() => sfn.commandCalls(SendTaskFailureCommand).length === 1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      taskToken: first.task_token,
      error: 'HealthCheckFailed',
      cause: expect.stringContaining('/health'),
    });
    await send({ ...first, attempt: 2, task_token: `${first.task_token}x` });
    await until(() => sfn.commandCalls(SendTaskSuccessCommand).length === 1);
  });

  it('leaves a message that is not a task message to the redrive policy', async () => {
    const running = startAgent();
    await send('{"not":"a task"}');
    await until(() => running.stats().invalid === 1);
    expect(sfn.calls()).toHaveLength(0);
    expect(await queueDepth()).toBe(1);
  });

  it('drops a task whose token is no longer awaited (cancelled deployment)', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'gone', $metadata: {} }));
    const running = startAgent();
    await send(taskMessage());
    await until(() => running.stats().abandoned === 1);
    await until(async () => (await queueDepth()) === 0);
  });

  it('heartbeats while working', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskHeartbeatCommand).resolves({});
    startAgent();
    await send(taskMessage({ heartbeat_seconds: 3 }, { simulate_delay_ms: 2_300 }));
    await until(() => sfn.commandCalls(SendTaskSuccessCommand).length === 1, 6_000);
    expect(sfn.commandCalls(SendTaskHeartbeatCommand).length).toBeGreaterThanOrEqual(2);
  });

  it('works on at most `concurrency` tasks at once', async () => {
    let active = 0;
    let peak = 0;
    const running = startAgent({ concurrency: 2, defaultDelayMs: 0 });
    sfn.on(SendTaskSuccessCommand).callsFake(async () => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 100));
      active -= 1;
      return {};
    });
    for (let index = 0; index < 6; index += 1) await send(taskMessage());
    await until(() => running.stats().succeeded === 6);
    expect(peak).toBe(2);
  });

  it('stops while long-polling by aborting the receive, not by waiting it out', async () => {
    const polls: AbortSignal[] = [];
    const send = sqs.send.bind(sqs);
    vi.spyOn(sqs, 'send').mockImplementation(((command: unknown, options?: { abortSignal?: AbortSignal }) => {
      if (command instanceof ReceiveMessageCommand && options?.abortSignal) polls.push(options.abortSignal);
      return send(command as ReceiveMessageCommand, options);
    }) as typeof sqs.send);
    agent = new SimulatedAgent({ sqs, sfn: sfnClient, queueUrl, waitTimeSeconds: 20 });
    agent.start();
    await until(() => polls.length > 0);
    const [poll] = polls;
    expect(poll?.aborted).toBe(false);
    await agent.stop();
    // The 20-second receive was cancelled: stop() did not wait for it to return.
    expect(poll?.aborted).toBe(true);
    expect(polls).toHaveLength(1);
  });
});
