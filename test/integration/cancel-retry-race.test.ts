import { afterEach, describe, expect, it } from 'vitest';
import { CANCELLED_MESSAGE, type Deployment, DeploymentListResponse } from '../../lambdas/domain/deployment';
import type { WorkflowManager } from '../../lambdas/execution/workflow-manager';
import { DEPLOYER } from '../support/api-events';
import {
  createDeployment,
  createFixture,
  type DeploymentApi,
  listTasks,
  settledExecutions,
  taskOf,
  useDeploymentStack,
  waitForDeployment,
} from '../support/deployment-stack';
import { act, defaultOutput, type ScriptedAgent } from '../support/task-agent';

/**
 * A cancel racing a task retry (or a deployment's first start), each interleaving made
 * deterministic by holding the WorkflowManager's start where the race is: the services run
 * for real, on DynamoDB Local and the Step Functions stand-in.
 */

interface Hold {
  /** resolves once the held call got there */
  readonly reached: Promise<void>;
  readonly release: () => void;
}

type HoldPoint = 'beforeStart' | 'afterStart';

/** Holds the next `start` of an execution whose name matches, before or after it reaches Step Functions. */
class StartGate {
  #pending:
    | { point: HoldPoint; matches: (name: string) => boolean; reached: () => void; wait: Promise<void> }
    | undefined;

  hold(point: HoldPoint, matches: (name: string) => boolean): Hold {
    let reached = (): void => undefined;
    let release = (): void => undefined;
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const wait = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#pending = { point, matches, reached, wait };
    return { reached: reachedPromise, release };
  }

  async #at(point: HoldPoint, name: string): Promise<void> {
    const pending = this.#pending;
    if (!pending || pending.point !== point || !pending.matches(name)) return;
    this.#pending = undefined;
    pending.reached();
    await pending.wait;
  }

  wrap(real: WorkflowManager): WorkflowManager {
    return {
      executionArn: (strategy, name) => real.executionArn(strategy, name),
      stop: (arn, cause) => real.stop(arn, cause),
      status: (arn) => real.status(arn),
      start: async (strategy, name, input) => {
        await this.#at('beforeStart', name);
        const arn = await real.start(strategy, name, input);
        await this.#at('afterStart', name);
        return arn;
      },
    };
  }
}

const gate = new StartGate();
const stack = useDeploymentStack({ workflows: (real) => gate.wrap(real) });

let agent: ScriptedAgent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const isResume = (name: string) => name.includes('-resume-');

const cancel = (api: DeploymentApi, id: string) =>
  api.call({ method: 'POST', path: `/api/v1/deployments/${id}/cancel`, body: {}, claims: DEPLOYER });

const retry = (api: DeploymentApi, taskId: string) =>
  api.call({ method: 'POST', path: `/api/v1/tasks/${taskId}/retry`, body: {}, claims: DEPLOYER });

/** A deployment whose build failed on its first attempt; retried builds do what `retried` says. */
async function failedAtBuild(retried: 'succeed' | 'hold') {
  const { api } = stack;
  const fixture = await createFixture(api);
  // Only the first deployment's build is scripted to fail, and then to be held or succeed.
  let scripted: string | undefined;
  agent = stack.startAgent({
    script: (message) => {
      scripted ??= message.deployment_id;
      if (message.step_id !== 'build' || message.deployment_id !== scripted) {
        return act.succeed(defaultOutput(message));
      }
      if (message.attempt === 1) return act.fail('BuildFailed', 'compile error');
      return retried === 'hold' ? act.hold : act.succeed(defaultOutput(message));
    },
  });
  const created = await createDeployment(api, fixture);
  const failed = await waitForDeployment(api, created.id);
  expect(failed.status).toBe('failed');
  const [application] = fixture.applications;
  if (!application) throw new Error('fixture without application');
  const build = taskOf(await listTasks(api, created.id), application.id, 'build');
  return { api, fixture, created, build, applicationId: application.id };
}

/** After the race: nothing of the deployment runs, no task moved after the cancel, the environment is free. */
async function expectCancelledForGood(api: DeploymentApi, deployment: Deployment, buildTaskId: string) {
  const executions = await settledExecutions(stack, api, deployment);
  expect(executions.every((execution) => execution.status !== 'RUNNING')).toBe(true);
  const after = await waitForDeployment(api, deployment.id);
  expect(after).toMatchObject({ status: 'failed', error_message: CANCELLED_MESSAGE });
  const tasks = await listTasks(api, deployment.id);
  expect(tasks.every((task) => task.status === 'failed' || task.status === 'success')).toBe(true);
  return { tasks, build: tasks.find((task) => task.id === buildTaskId) };
}

describe('a cancel racing a task retry', () => {
  it('cancel first: the failed deployment cannot be cancelled (409), and the retry then runs it to success', async () => {
    const { api, created, build } = await failedAtBuild('succeed');
    expect((await cancel(api, created.id)).status).toBe(409);
    expect((await retry(api, build.id)).status).toBe(200);
    expect((await waitForDeployment(api, created.id)).status).toBe('success');
  });

  it("retry first, cancel before the retry's execution starts: the retry is refused and nothing it started runs", async () => {
    const { api, created, build } = await failedAtBuild('succeed');
    const held = gate.hold('beforeStart', isResume);
    const retrying = retry(api, build.id);
    await held.reached;

    const cancelled = await cancel(api, created.id);
    expect(cancelled.status).toBe(200);
    held.release();
    const retried = await retrying;
    expect(retried.status).toBe(409);
    expect(JSON.stringify(retried.body)).toContain('cancelled while task');

    const { build: after } = await expectCancelledForGood(api, created, build.id);
    // Never marked running again, so never dispatched: its attempt is still the first one.
    expect(after).toMatchObject({ status: 'failed', attempt: 1 });
    expect(agent?.messagesOf(created.id).filter((message) => message.attempt > 1)).toEqual([]);
  });

  it("retry first, cancel after the retry's execution started: that execution is stopped and the agent's late answer changes nothing", async () => {
    const { api, fixture, created, build } = await failedAtBuild('hold');
    const held = gate.hold('afterStart', isResume);
    const retrying = retry(api, build.id);
    await held.reached;

    const cancelled = await cancel(api, created.id);
    expect(cancelled.status).toBe(200);
    held.release();
    expect((await retrying).status).toBe(409);

    const executions = await settledExecutions(stack, api, created);
    expect(executions.find((execution) => execution.name === `${created.id}-resume-1`)?.status).toBe(
      'ABORTED',
    );
    const { build: after } = await expectCancelledForGood(api, created, build.id);
    expect(after?.status).toBe('failed');
    // If the resumed build reached the agent before the stop, its answer now finds no one waiting.
    const late = agent?.messagesOf(created.id).find((message) => message.attempt === 2);
    if (late) await expect(agent?.succeed(late)).rejects.toThrow();
    expect((await listTasks(api, created.id)).find((task) => task.id === build.id)?.status).toBe('failed');

    // The environment is free, and a new deployment runs on it alone.
    const next = await createDeployment(api, fixture);
    expect(await waitForDeployment(api, next.id)).toMatchObject({ status: 'success', error_message: '' });
  });
});

describe("a cancel racing a deployment's first start", () => {
  it('cancelled before its execution starts: the execution, once started, runs no task', async () => {
    const { api } = stack;
    const fixture = await createFixture(api);
    agent = stack.startAgent({ script: (message) => act.succeed(defaultOutput(message)) });
    const held = gate.hold('beforeStart', (name) => !isResume(name));
    const creating = createDeployment(api, fixture);
    await held.reached;
    const listed = DeploymentListResponse.parse(
      (
        await api.call({
          method: 'GET',
          path: '/api/v1/deployments',
          query: { environment_id: fixture.environment.id },
          claims: DEPLOYER,
        })
      ).body,
    );
    const [pending] = listed.deployments;
    if (!pending) throw new Error('the deployment was not written');
    expect((await cancel(api, pending.id)).status).toBe(200);
    held.release();
    await creating;

    const executions = await settledExecutions(stack, api, pending);
    expect(executions.map((execution) => execution.status)).toEqual(['SUCCEEDED']);
    const tasks = await listTasks(api, pending.id);
    expect(tasks.map((task) => [task.status, task.attempt])).toEqual(tasks.map(() => ['failed', 0]));
    expect(agent?.messagesOf(pending.id)).toEqual([]);
  });
});
