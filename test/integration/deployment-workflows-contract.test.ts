import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { MAX_TASK_OUTPUT_BYTES, type TaskMessageV1 } from '../../lambdas/agent-protocol';
import type { Task } from '../../lambdas/domain/task';
import { combinationPartition } from '../../lambdas/store/counters';
import { counterKey, type EntityName } from '../../lambdas/store/keys';
import { OUTPUT_FAILURES, RESERVED_ERROR_NOTE } from '../../lambdas/workflow/task-states';
import {
  createDeployment,
  createFixture,
  listTasks,
  settledExecutions,
  taskOf,
  useDeploymentStack,
  waitForDeployment,
} from '../support/deployment-stack';
import { act, defaultOutput, type ScriptedAgent } from '../support/task-agent';

/**
 * Agent answers outside the agent protocol (an output that is too large or not a JSON
 * object, an error under a name reserved for Step Functions and AWS), end to end through
 * the Step Functions stand-in: each fails its task with a message saying what was wrong,
 * never leaves it running or runs it again. And the list counters the workflow moves.
 */

const stack = useDeploymentStack();

/** Runs a one-application standard deployment whose `deploy` task the test answers itself. */
async function deployWithHeldDeploy(answer: (agent: ScriptedAgent, held: TaskMessageV1) => Promise<unknown>) {
  const { api } = stack;
  const fixture = await createFixture(api);
  const [application] = fixture.applications;
  if (!application) throw new Error('one application expected');
  const agent = stack.startAgent({
    script: (message) => (message.step_id === 'deploy' ? act.hold : act.succeed(defaultOutput(message))),
  });
  try {
    const created = await createDeployment(api, fixture);
    const held = await agent.waitForMessage(
      (message) => message.deployment_id === created.id && message.step_id === 'deploy',
    );
    const answered = await answer(agent, held);
    const deployment = await waitForDeployment(api, created.id);
    const [execution] = await settledExecutions(stack, api, deployment);
    const tasks = await listTasks(api, created.id);
    return {
      answered,
      deployment,
      execution,
      tasks,
      deploy: taskOf(tasks, application.id, 'deploy'),
      healthCheck: taskOf(tasks, application.id, 'health_check'),
      dispatches: agent.messagesOf(created.id).filter((message) => message.step_id === 'deploy'),
      prefix: (task: Task) => `Task ${task.id} (deploy) of application ${application.id} failed: `,
      fixture,
    };
  } finally {
    await agent.stop();
  }
}

/** A JSON object whose JSON text is `bytes` long. */
function objectOfBytes(bytes: number): string {
  const skeleton = JSON.stringify({ log: '' });
  return JSON.stringify({ log: 'x'.repeat(bytes - skeleton.length) });
}

async function counter(entity: EntityName, filters: readonly (readonly [string, string])[]): Promise<number> {
  const { Item } = await stack.table.client.send(
    new GetItemCommand({
      TableName: stack.table.tableName,
      Key: Object.fromEntries(
        Object.entries(counterKey(combinationPartition(entity, filters))).map(([key, value]) => [
          key,
          { S: value },
        ]),
      ),
      ConsistentRead: true,
    }),
  );
  return Number(Item?.count?.N ?? 0);
}

describe('an agent output outside the contract', () => {
  it(`over ${MAX_TASK_OUTPUT_BYTES} bytes fails the task with a message naming the limit`, async () => {
    const output = objectOfBytes(33 * 1024);
    const run = await deployWithHeldDeploy((agent, held) => agent.succeedUnchecked(held, output));

    expect(run.deploy.status).toBe('failed');
    expect(JSON.parse(run.deploy.result)).toEqual({
      error: 'InvalidTaskOutput',
      cause: OUTPUT_FAILURES.tooLarge,
    });
    expect(OUTPUT_FAILURES.tooLarge).toContain(String(MAX_TASK_OUTPUT_BYTES));
    expect(run.deployment).toMatchObject({
      status: 'failed',
      error_message: `${run.prefix(run.deploy)}InvalidTaskOutput: ${OUTPUT_FAILURES.tooLarge}`,
    });
    expect(run.healthCheck.status).toBe('pending');
    expect(run.execution).toMatchObject({ status: 'FAILED' });
  });

  it('of 250 KiB fails the task, not the execution', async () => {
    const output = objectOfBytes(250 * 1024);
    const run = await deployWithHeldDeploy((agent, held) => agent.succeedUnchecked(held, output));

    expect(run.deploy.status).toBe('failed');
    expect(JSON.parse(run.deploy.result)).toEqual({
      error: 'InvalidTaskOutput',
      cause: OUTPUT_FAILURES.tooLarge,
    });
    expect(run.deployment.status).toBe('failed');
    expect(run.execution).toMatchObject({ status: 'FAILED' });
  });

  it("that with the state data passes Step Functions' 256 KiB state limit fails the task (States.DataLimitExceeded caught)", async () => {
    // Accepted by SendTaskSuccess (at most 262144 characters), but the Dispatch state's
    // output (its input plus this result) is over the limit.
    const output = objectOfBytes(255 * 1024);
    const run = await deployWithHeldDeploy((agent, held) => agent.succeedUnchecked(held, output));

    expect(run.answered).toMatchObject({ outcome: 'success' });
    expect(run.answered).not.toHaveProperty('rejectedWith');
    expect(run.deploy.status).toBe('failed');
    expect(JSON.parse(run.deploy.result)).toEqual({
      error: 'InvalidTaskOutput',
      cause: OUTPUT_FAILURES.overStateLimit,
    });
    expect(run.execution).toMatchObject({ status: 'FAILED' });
  });

  it.each([
    ['a string', '"a string"'],
    ['an array', '[1]'],
    ['null', 'null'],
    ['a number', '42'],
  ])('that is %s fails the task: not a JSON object', async (_what, output) => {
    const run = await deployWithHeldDeploy((agent, held) => agent.succeedUnchecked(held, output));

    expect(run.deploy.status).toBe('failed');
    expect(JSON.parse(run.deploy.result)).toEqual({
      error: 'InvalidTaskOutput',
      cause: OUTPUT_FAILURES.notObject,
    });
    expect(run.deployment.error_message).toBe(
      `${run.prefix(run.deploy)}InvalidTaskOutput: ${OUTPUT_FAILURES.notObject}`,
    );
    expect(run.tasks.filter((task) => task.status === 'running')).toEqual([]);
  });

  it('of exactly the limit is stored as the result', async () => {
    const output = objectOfBytes(MAX_TASK_OUTPUT_BYTES);
    const run = await deployWithHeldDeploy((agent, held) => agent.succeedUnchecked(held, output));

    expect(run.deploy).toMatchObject({ status: 'success', result: output });
    expect(run.deployment.status).toBe('success');
  });
});

describe('an agent error under a reserved name', () => {
  it('SQS.InternalError fails the task at attempt 1, dispatched once, saying the agent reported it', async () => {
    const cause = 'the agent gave up';
    const run = await deployWithHeldDeploy((agent, held) =>
      agent.failUnchecked(held, 'SQS.InternalError', cause),
    );

    expect(run.dispatches).toHaveLength(1);
    expect(run.deploy).toMatchObject({ status: 'failed', attempt: 1 });
    expect(JSON.parse(run.deploy.result)).toEqual({
      error: 'SQS.InternalError',
      cause: `${RESERVED_ERROR_NOTE}${cause}`,
    });
    expect(run.deployment.error_message).toBe(
      `${run.prefix(run.deploy)}SQS.InternalError: ${RESERVED_ERROR_NOTE}${cause}`,
    );
  });

  it('States.Timeout fails the task with a message saying the agent reported it', async () => {
    const run = await deployWithHeldDeploy((agent, held) =>
      agent.failUnchecked(held, 'States.Timeout', 'deadline passed on our side'),
    );

    expect(run.dispatches).toHaveLength(1);
    expect(run.deploy.status).toBe('failed');
    expect(JSON.parse(run.deploy.result)).toEqual({
      error: 'States.Timeout',
      cause: `${RESERVED_ERROR_NOTE}deadline passed on our side`,
    });
  });

  it('SQS.InternalError without a cause still fails the task once', async () => {
    const run = await deployWithHeldDeploy((agent, held) => agent.failUnchecked(held, 'SQS.InternalError'));

    expect(run.dispatches).toHaveLength(1);
    expect(run.deploy.status).toBe('failed');
    expect(JSON.parse(run.deploy.result).cause).toMatch(new RegExp(`^${RESERVED_ERROR_NOTE}`));
  });
});

describe('the list counters the workflow moves', () => {
  it('take each task from running to success and the deployment to success, in its environment too', async () => {
    const statuses = ['running', 'success', 'failed'] as const;
    const taskCounters = () =>
      Promise.all(
        statuses.map((status) =>
          counter('TASK', [
            ['status', status],
            ['type', 'deploy'],
          ]),
        ),
      );
    const before = await taskCounters();

    const run = await deployWithHeldDeploy((agent, held) => agent.succeed(held));

    expect(run.deployment.status).toBe('success');
    const after = await taskCounters();
    expect(after.map((count, index) => count - (before[index] ?? 0))).toEqual([0, 1, 0]);
    const environment = run.fixture.environment.id;
    for (const [status, expected] of [
      ['running', 0],
      ['success', 1],
      ['failed', 0],
    ] as const) {
      expect(
        await counter('DEPLOYMENT', [
          ['environment_id', environment],
          ['status', status],
        ]),
        status,
      ).toBe(expected);
    }
  });

  it('take a failed task to failed and its deployment to failed', async () => {
    const before = await counter('TASK', [
      ['status', 'failed'],
      ['type', 'deploy'],
    ]);

    const run = await deployWithHeldDeploy((agent, held) =>
      agent.fail(held, { error: 'RolloutFailed', cause: 'pods crash' }),
    );

    expect(run.deploy.status).toBe('failed');
    expect(
      (await counter('TASK', [
        ['status', 'failed'],
        ['type', 'deploy'],
      ])) - before,
    ).toBe(1);
    const environment = run.fixture.environment.id;
    expect(
      await counter('DEPLOYMENT', [
        ['environment_id', environment],
        ['status', 'failed'],
      ]),
    ).toBe(1);
    expect(
      await counter('DEPLOYMENT', [
        ['environment_id', environment],
        ['status', 'running'],
      ]),
    ).toBe(0);
  });
});
