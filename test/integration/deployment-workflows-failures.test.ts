import { describe, expect, it } from 'vitest';
import { CANCELLED_MESSAGE } from '../../lambdas/domain/deployment';
import type { Task } from '../../lambdas/domain/task';
import { WORKFLOW_TEMPLATES, WorkflowStrategy } from '../../lambdas/workflow';
import { DEPLOYER } from '../support/api-events';
import {
  createDeployment,
  createFixture,
  type DeploymentApi,
  type Fixture,
  getDeployment,
  listTasks,
  settledExecutions,
  taskOf,
  useDeploymentStack,
  waitForDeployment,
} from '../support/deployment-stack';
import { act, defaultOutput } from '../support/task-agent';

/**
 * Failing, retried and cancelled deployments, end to end (see deployment-workflows.test.ts
 * for the set-up): what a user sees through the API while the agent fails or holds tasks.
 */

const stack = useDeploymentStack();

const HEALTH_CHECK_CAUSE = 'GET /health answered 503 "Service Unavailable"\nC:\\probe';

const retryTask = (api: DeploymentApi, taskId: string) =>
  api.call({ method: 'POST', path: `/api/v1/tasks/${taskId}/retry`, body: {}, claims: DEPLOYER });

function applicationsOf(fixture: Fixture) {
  const [first, second] = fixture.applications;
  if (!first || !second) throw new Error('two applications expected');
  return { first, second };
}

const stepsAfter = (stepIds: readonly string[], stepId: string) => stepIds.slice(stepIds.indexOf(stepId) + 1);

describe.each(WorkflowStrategy.options)('a %s deployment whose health check fails', (strategy) => {
  const stepIds = WORKFLOW_TEMPLATES[strategy].steps.map((step) => step.id);

  it('fails naming the task, leaves its dependents pending, finishes the other application; a retry resumes it', async () => {
    const { api } = stack;
    const fixture = await createFixture(api, { applicationCount: 2 });
    const { first, second } = applicationsOf(fixture);
    const agent = stack.startAgent({
      script: (message) =>
        message.application_id === first.id && message.step_id === 'health_check' && message.attempt === 1
          ? act.fail('HealthCheckFailed', HEALTH_CHECK_CAUSE)
          : act.succeed(defaultOutput(message)),
    });
    try {
      const created = await createDeployment(api, fixture, { strategy });
      const failed = await waitForDeployment(api, created.id);
      const [execution] = await settledExecutions(stack, api, failed);

      const tasks = await listTasks(api, created.id);
      const healthCheck = taskOf(tasks, first.id, 'health_check');
      const message = `Task ${healthCheck.id} (health_check) of application ${first.id} failed: HealthCheckFailed: ${HEALTH_CHECK_CAUSE}`;
      expect(failed).toMatchObject({ status: 'failed', error_message: message });
      expect(failed.completed_at).not.toBeNull();
      expect(execution).toMatchObject({ status: 'FAILED' });

      expect(healthCheck).toMatchObject({ status: 'failed', attempt: 1 });
      expect(healthCheck.result).toBe(
        JSON.stringify({ error: 'HealthCheckFailed', cause: HEALTH_CHECK_CAUSE }),
      );
      for (const stepId of stepIds.slice(0, stepIds.indexOf('health_check'))) {
        expect(taskOf(tasks, first.id, stepId).status).toBe('success');
      }
      for (const stepId of stepsAfter(stepIds, 'health_check')) {
        expect(taskOf(tasks, first.id, stepId)).toMatchObject({
          status: 'pending',
          attempt: 0,
          started_at: null,
        });
      }
      for (const stepId of stepIds) expect(taskOf(tasks, second.id, stepId).status).toBe('success');
      expect(tasks.filter((task) => task.status === 'running')).toEqual([]);

      // POST /tasks/{id}/retry: the task goes back to pending and a new execution resumes.
      const received = agent.messagesOf(created.id).length;
      const retried = await retryTask(api, healthCheck.id);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({
        id: healthCheck.id,
        status: 'pending',
        result: '',
        started_at: null,
        completed_at: null,
      });

      const resumed = await waitForDeployment(api, created.id);
      const executions = await settledExecutions(stack, api, resumed);
      expect(resumed).toMatchObject({ status: 'success', error_message: '', started_at: failed.started_at });
      expect(executions.map((each) => [each.name, each.status])).toEqual([
        [created.id, 'FAILED'],
        [`${created.id}-resume-1`, 'SUCCEEDED'],
      ]);
      // Finished work is not dispatched again: only the retried task and what depends on it.
      expect(
        agent
          .messagesOf(created.id)
          .slice(received)
          .map((each) => [each.application_id, each.step_id, each.attempt]),
      ).toEqual([
        [first.id, 'health_check', 2],
        ...stepsAfter(stepIds, 'health_check').map((stepId) => [first.id, stepId, 1]),
      ]);

      const after = await listTasks(api, created.id);
      expect(after.every((task) => task.status === 'success')).toBe(true);
      expect(taskOf(after, first.id, 'health_check')).toMatchObject({
        attempt: 2,
        result: JSON.stringify({ step: 'health_check', application_id: first.id, attempt: 2 }),
      });
      expect(taskOf(after, first.id, 'build')).toMatchObject({
        attempt: 1,
        completed_at: taskOf(tasks, first.id, 'build').completed_at,
      });
    } finally {
      await agent.stop();
    }
    expect(stack.faults).toEqual([]);
  });
});

/**
 * A two-application deployment cancelled while the agent holds the first application's
 * deploy task (and, with `holdRetry`, holds it again when it comes back after a retry).
 */
async function cancelWhileDeploying(api: DeploymentApi, options: { holdRetry?: boolean } = {}) {
  const fixture = await createFixture(api, { applicationCount: 2 });
  const { first, second } = applicationsOf(fixture);
  // Holds the first deploy task of `first` it sees (the cancelled deployment's), then lets
  // every other task through, except that deploy task's retry when `holdRetry` is set.
  let heldId: string | undefined;
  const agent = stack.startAgent({
    script: (message) => {
      const isDeploy = message.application_id === first.id && message.step_id === 'deploy';
      if (isDeploy && heldId === undefined) heldId = message.task_id;
      const hold =
        isDeploy && message.task_id === heldId && (message.attempt === 1 || options.holdRetry === true);
      return hold ? act.hold : act.succeed(defaultOutput(message));
    },
  });
  try {
    const created = await createDeployment(api, fixture);
    const held = await agent.waitForMessage(
      (message) =>
        message.deployment_id === created.id &&
        message.step_id === 'deploy' &&
        message.application_id === first.id,
    );
    // The other application runs to its end first, so the cancel meets exactly one running task.
    await waitForTasks(api, created.id, (tasks) =>
      tasks.filter((task) => task.application_id === second.id).every((task) => task.status === 'success'),
    );
    expect(taskOf(await listTasks(api, created.id), first.id, 'deploy').status).toBe('running');

    const cancel = await api.call({
      method: 'POST',
      path: `/api/v1/deployments/${created.id}/cancel`,
      body: {},
      claims: DEPLOYER,
    });
    return { fixture, first, second, agent, created, held, cancel };
  } catch (error) {
    await agent.stop();
    throw error;
  }
}

async function waitForTasks(
  api: DeploymentApi,
  deploymentId: string,
  done: (tasks: Task[]) => boolean,
  timeoutMs = 10_000,
): Promise<Task[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = await listTasks(api, deploymentId);
    if (done(tasks)) return tasks;
    if (Date.now() > deadline)
      throw new Error(`tasks of ${deploymentId} not as expected after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const cancelledResult = JSON.stringify({ error: 'DeploymentCancelled', cause: CANCELLED_MESSAGE });

describe('cancelling a deployment while a task runs', () => {
  it('fails it with the cancel message, stops the execution, fails unfinished tasks, frees the environment; the old token is refused', async () => {
    const { api } = stack;
    const { fixture, first, second, agent, created, held, cancel } = await cancelWhileDeploying(api);
    try {
      expect(cancel.status).toBe(200);
      expect(cancel.body).toEqual({ id: created.id, status: 'failed', error_message: CANCELLED_MESSAGE });

      const [execution] = await settledExecutions(stack, api, created);
      expect(execution).toMatchObject({ name: created.id, status: 'ABORTED' });
      const deployment = await getDeployment(api, created.id);
      expect(deployment).toMatchObject({ status: 'failed', error_message: CANCELLED_MESSAGE });
      expect(deployment.completed_at).not.toBeNull();

      const tasks = await listTasks(api, created.id);
      expect(tasks.filter((task) => task.status === 'running' || task.status === 'pending')).toEqual([]);
      for (const stepId of ['build', 'test']) expect(taskOf(tasks, first.id, stepId).status).toBe('success');
      for (const stepId of ['deploy', 'health_check']) {
        expect(taskOf(tasks, first.id, stepId)).toMatchObject({ status: 'failed', result: cancelledResult });
      }
      for (const task of tasks.filter((each) => each.application_id === second.id)) {
        expect(task.status).toBe('success');
      }

      // The agent finishes its work late: Step Functions no longer knows the token.
      const late = await agent.succeed(held);
      expect(late.rejectedWith).toBe('TaskTimedOut');
      expect(
        agent.messagesOf(created.id).map((message) => `${message.application_id}:${message.step_id}`),
      ).not.toContain(`${first.id}:health_check`);
      expect((await getDeployment(api, created.id)).status).toBe('failed');

      // A second cancel is a conflict; the environment takes a new deployment.
      const again = await api.call({
        method: 'POST',
        path: `/api/v1/deployments/${created.id}/cancel`,
        body: {},
        claims: DEPLOYER,
      });
      expect(again.status).toBe(409);
      const next = await createDeployment(api, fixture);
      const finished = await waitForDeployment(api, next.id);
      await settledExecutions(stack, api, finished);
      expect(finished.status).toBe('success');
    } finally {
      await agent.stop();
    }
  });

  it('resumes one retried task at a time: a task the cancel failed before it ran fails the application again', async () => {
    const { api } = stack;
    const { first, second, agent, created, cancel } = await cancelWhileDeploying(api, { holdRetry: true });
    try {
      expect(cancel.status).toBe(200);
      await settledExecutions(stack, api, created);
      const tasks = await listTasks(api, created.id);
      const deploy = taskOf(tasks, first.id, 'deploy');
      const healthCheck = taskOf(tasks, first.id, 'health_check');
      expect(deploy).toMatchObject({ status: 'failed', attempt: 1 });
      expect(deploy.started_at).not.toBeNull();
      expect(healthCheck).toMatchObject({
        status: 'failed',
        attempt: 0,
        started_at: null,
        result: cancelledResult,
      });

      // health_check cannot run before deploy has succeeded: retrying it first is refused.
      const early = await retryTask(api, healthCheck.id);
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({
        error: {
          code: 'CONFLICT',
          message: `Task ${healthCheck.id} (health_check) depends on task ${deploy.id} (deploy), which is failed; retry that one first`,
          details: { task_id: deploy.id, status: 'failed' },
        },
      });
      expect(taskOf(await listTasks(api, created.id), first.id, 'health_check')).toEqual(healthCheck);

      // Retrying the interrupted task resets that task only (docs/workflows.md, Retry) ...
      const received = agent.messagesOf(created.id).length;
      expect((await retryTask(api, deploy.id)).status).toBe(200);
      const again = await agent.waitForMessage(
        (message) => message.task_id === deploy.id && message.attempt === 2,
      );
      const resuming = await listTasks(api, created.id);
      expect(taskOf(resuming, first.id, 'deploy')).toMatchObject({ status: 'running', attempt: 2 });
      expect(taskOf(resuming, first.id, 'health_check')).toMatchObject({
        status: 'failed',
        result: cancelledResult,
      });
      await agent.succeed(again);

      // ... so the resumed execution stops at health_check, which the cancel failed unrun.
      const stopped = await waitForDeployment(api, created.id, (each) => each.status !== 'running');
      await settledExecutions(stack, api, stopped);
      expect(stopped).toMatchObject({
        status: 'failed',
        error_message: `Task ${healthCheck.id} (health_check) of application ${first.id} is failed`,
      });
      expect(taskOf(await listTasks(api, created.id), first.id, 'deploy')).toMatchObject({
        status: 'success',
        attempt: 2,
      });

      // A second retry, of health_check, completes the deployment.
      expect((await retryTask(api, healthCheck.id)).status).toBe(200);
      const completed = await waitForDeployment(api, created.id, (each) => each.status !== 'running');
      const executions = await settledExecutions(stack, api, completed);
      expect(completed).toMatchObject({ status: 'success', error_message: '' });
      expect(executions.map((each) => [each.name, each.status])).toEqual([
        [created.id, 'ABORTED'],
        [`${created.id}-resume-1`, 'FAILED'],
        [`${created.id}-resume-2`, 'SUCCEEDED'],
      ]);
      // Only the unfinished work of the first application ran again.
      expect(
        agent
          .messagesOf(created.id)
          .slice(received)
          .map((message) => [message.application_id, message.step_id, message.attempt]),
      ).toEqual([
        [first.id, 'deploy', 2],
        [first.id, 'health_check', 1],
      ]);
      const after = await listTasks(api, created.id);
      expect(after.every((task) => task.status === 'success')).toBe(true);
      expect(taskOf(after, second.id, 'deploy').attempt).toBe(1);
    } finally {
      await agent.stop();
    }
  });
});
