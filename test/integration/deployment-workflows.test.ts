import { describe, expect, it } from 'vitest';
import type { TaskMessageV1 } from '../../lambdas/agent-protocol';
import { WORKFLOW_TEMPLATES } from '../../lambdas/workflow';
import { ADMIN, DEPLOYER } from '../support/api-events';
import {
  createDeployment,
  createFixture,
  createVersion,
  getDeployment,
  listTasks,
  settledExecutions,
  taskOf,
  useDeploymentStack,
  waitForDeployment,
} from '../support/deployment-stack';
import { act, defaultOutput } from '../support/task-agent';

/**
 * Deployments driven end to end through the API handlers: the real repositories on DynamoDB
 * Local, the real WorkflowManager starting the compiled state machines in the Step Functions
 * stand-in, fauxqs, and a scripted agent answering from the task queue. Every assertion is
 * on what a user sees through GET /deployments/{id} and GET /tasks?deployment_id=….
 */

const stack = useDeploymentStack();
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A result with everything JSON escapes: quotes, backslashes, a newline, a tab, unicode. */
const awkwardResult = {
  image: 'org/app:v1.0.0',
  log: 'said "hello"\nC:\\build\\out \\"quoted\\"\tdone ✓',
  nested: { path: '\\\\server\\share', empty: '' },
};

describe('a standard deployment of two applications', () => {
  it('runs every task once, in dependency order per application, and succeeds', async () => {
    const { api } = stack;
    const fixture = await createFixture(api, { applicationCount: 2 });
    const [first, second] = fixture.applications;
    if (!first || !second) throw new Error('two applications expected');
    const agent = stack.startAgent({
      script: (message) =>
        act.succeed(
          message.application_id === first.id && message.step_id === 'build'
            ? awkwardResult
            : defaultOutput(message),
        ),
    });
    try {
      const created = await createDeployment(api, fixture);
      expect(created).toMatchObject({ status: 'pending', strategy: 'standard', rollback_of: null });

      const deployment = await waitForDeployment(api, created.id);
      const [execution] = await settledExecutions(stack, api, deployment);

      expect(deployment).toMatchObject({ status: 'success', error_message: '', created_by: DEPLOYER.email });
      expect(deployment.started_at).toMatch(TIMESTAMP);
      expect(deployment.completed_at).toMatch(TIMESTAMP);
      expect(execution?.status).toBe('SUCCEEDED');

      const stepIds = WORKFLOW_TEMPLATES.standard.steps.map((step) => step.id);
      const messages = agent.messagesOf(created.id);
      expect(messages).toHaveLength(8);
      for (const application of fixture.applications) {
        const mine = messages.filter((message) => message.application_id === application.id);
        expect(mine.map((message) => message.step_id)).toEqual(stepIds);
        expect(mine.map((message) => message.attempt)).toEqual([1, 1, 1, 1]);
      }
      expect(agent.answers.every((answer) => answer.rejectedWith === undefined)).toBe(true);

      const tasks = await listTasks(api, created.id);
      expect(tasks).toHaveLength(8);
      for (const task of tasks) {
        expect(task).toMatchObject({ status: 'success', attempt: 1 });
        expect(task.started_at).toMatch(TIMESTAMP);
        expect(task.completed_at).toMatch(TIMESTAMP);
        // Started after everything it depends on had completed.
        for (const dependency of task.depends_on) {
          const before = tasks.find((each) => each.id === dependency);
          expect((before?.completed_at ?? '') <= (task.started_at ?? '')).toBe(true);
        }
      }
      // Stored exactly as the agent sent it (SendTaskSuccess output → result text).
      expect(taskOf(tasks, first.id, 'build').result).toBe(JSON.stringify(awkwardResult));
      expect(JSON.parse(taskOf(tasks, first.id, 'build').result)).toEqual(awkwardResult);
      expect(JSON.parse(taskOf(tasks, second.id, 'health_check').result)).toEqual({
        step: 'health_check',
        application_id: second.id,
        attempt: 1,
      });

      // The environment is free again: the next deployment to it is accepted.
      const next = await createDeployment(api, fixture);
      expect(next.status).toBe('pending');
      expect((await waitForDeployment(api, next.id)).status).toBe('success');
      await settledExecutions(stack, api, next);
    } finally {
      await agent.stop();
    }
    expect(stack.faults).toEqual([]);
  });
});

describe('a blue-green deployment', () => {
  it('runs its tasks in template order and succeeds', async () => {
    const { api } = stack;
    const fixture = await createFixture(api);
    const agent = stack.startAgent({});
    try {
      const created = await createDeployment(api, fixture, { strategy: 'blue-green' });
      const deployment = await waitForDeployment(api, created.id);
      await settledExecutions(stack, api, deployment);

      expect(deployment).toMatchObject({ status: 'success', strategy: 'blue-green' });
      const stepIds = WORKFLOW_TEMPLATES['blue-green'].steps.map((step) => step.id);
      expect(agent.messagesOf(created.id).map((message) => message.step_id)).toEqual(stepIds);
      const cleanup = agent.messagesOf(created.id).find((message) => message.step_id === 'cleanup_blue');
      expect(cleanup).toMatchObject({ heartbeat_seconds: 600, payload: { config: { delay: 300 } } });

      const tasks = await listTasks(api, created.id);
      expect(tasks.map((task) => task.step_id).sort()).toEqual([...stepIds].sort());
      expect(tasks.every((task) => task.status === 'success')).toBe(true);
    } finally {
      await agent.stop();
    }
  });
});

describe('rolling back a finished deployment', () => {
  it('creates a new deployment of the earlier version with rollback_of, which runs to success', async () => {
    const { api } = stack;
    const fixture = await createFixture(api, { applicationCount: 2, gitTag: 'v1.0.0' });
    const newer = await createVersion(api, fixture.version.repository, 'v2.0.0');
    const agent = stack.startAgent({});
    try {
      const upgrade = await createDeployment(api, { ...fixture, version: newer });
      await settledExecutions(stack, api, await waitForDeployment(api, upgrade.id));

      const answer = await api.call({
        method: 'POST',
        path: `/api/v1/deployments/${upgrade.id}/rollback`,
        body: { target_version_id: fixture.version.id },
        claims: DEPLOYER,
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({
        version_id: fixture.version.id,
        application_ids: fixture.applications.map((application) => application.id),
        environment_id: fixture.environment.id,
        status: 'pending',
        rollback_of: upgrade.id,
      });
      const rollbackId = String(answer.body.id);
      expect(rollbackId).not.toBe(upgrade.id);

      const rollback = await waitForDeployment(api, rollbackId);
      await settledExecutions(stack, api, rollback);
      expect(rollback).toMatchObject({ status: 'success', rollback_of: upgrade.id });
      // The agent was asked to build the earlier version.
      const builds = agent.messagesOf(rollbackId).filter((message) => message.step_id === 'build');
      expect(builds).toHaveLength(2);
      for (const build of builds) {
        expect(build.version_id).toBe(fixture.version.id);
        expect(build.payload).toMatchObject({ version: { git_tag: 'v1.0.0' } });
      }
      expect((await getDeployment(api, upgrade.id)).status).toBe('success');
    } finally {
      await agent.stop();
    }
  });
});

describe('while a deployment runs', () => {
  it('answers 409 to a second deployment to the environment and to deleting what it uses', async () => {
    const { api } = stack;
    const fixture = await createFixture(api);
    const [application] = fixture.applications;
    if (!application) throw new Error('one application expected');
    const agent = stack.startAgent({ script: () => act.hold });
    try {
      const running = await createDeployment(api, fixture);
      const build = await agent.waitForMessage((message) => message.deployment_id === running.id);
      expect((await getDeployment(api, running.id)).status).toBe('running');

      const second = await api.call({
        method: 'POST',
        path: '/api/v1/deployments',
        body: {
          version_id: fixture.version.id,
          application_ids: [application.id],
          environment_id: fixture.environment.id,
        },
        claims: DEPLOYER,
      });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({
        error: { code: 'CONFLICT', details: { deployment_id: running.id } },
      });

      for (const path of [
        `/api/v1/environments/${fixture.environment.id}`,
        `/api/v1/versions/${fixture.version.id}`,
        `/api/v1/applications/${application.id}`,
      ]) {
        const deleted = await api.call({ method: 'DELETE', path, claims: ADMIN });
        expect({ path, status: deleted.status }).toEqual({ path, status: 409 });
        expect(deleted.body).toMatchObject({
          error: { code: 'CONFLICT', details: { deployment_id: running.id } },
        });
        expect((await api.call({ method: 'GET', path, claims: ADMIN })).status).toBe(200);
      }

      // Let it finish: the rest of the chain runs and nothing is in use any more.
      await agent.succeed(build);
      for (const stepId of ['test', 'deploy', 'health_check']) {
        const next = await agent.waitForMessage(
          (message: TaskMessageV1) => message.deployment_id === running.id && message.step_id === stepId,
        );
        await agent.succeed(next);
      }
      const finished = await waitForDeployment(api, running.id);
      await settledExecutions(stack, api, finished);
      expect(finished.status).toBe('success');
      const deleted = await api.call({
        method: 'DELETE',
        path: `/api/v1/environments/${fixture.environment.id}`,
        claims: ADMIN,
      });
      expect(deleted.status).toBe(200);
    } finally {
      await agent.stop();
    }
  });
});
