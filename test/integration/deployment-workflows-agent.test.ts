import { SendTaskFailureCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { MAX_CAUSE_LENGTH, type TaskMessageV1, taskFailureRequest } from '../../lambdas/agent-protocol';
import { WORKFLOW_TEMPLATES, type WorkflowTemplate } from '../../lambdas/workflow';
import {
  createDeployment,
  createFixture,
  listTasks,
  settledExecutions,
  taskOf,
  useDeploymentStack,
  waitForDeployment,
} from '../support/deployment-stack';
import { act, defaultOutput } from '../support/task-agent';

/**
 * The agent side of deployments, end to end (see deployment-workflows.test.ts for the
 * set-up): silent agents, heartbeats, bodies that are not task messages, failure causes at
 * the protocol's limit. The queue hands an unanswered message back after 1 s and moves it
 * to the dead-letter queue on its third receive, so redrive is quick to watch.
 */

const stack = useDeploymentStack({ sqs: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } });

/** The standard template with a 1 s heartbeat on health_check, so a silent agent shows quickly. */
const quickHeartbeat: WorkflowTemplate = {
  ...WORKFLOW_TEMPLATES.standard,
  steps: WORKFLOW_TEMPLATES.standard.steps.map((step) =>
    step.id === 'health_check' ? { ...step, heartbeat_seconds: 1, timeout_seconds: 60 } : step,
  ),
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an agent that stops heartbeating', () => {
  it('fails the task with States.HeartbeatTimeout and the deployment with it; a heartbeating agent is kept', async () => {
    const api = await stack.apiWith({ ...WORKFLOW_TEMPLATES, standard: quickHeartbeat });
    const fixture = await createFixture(api, { applicationCount: 2 });
    const [silent, beating] = fixture.applications;
    if (!silent || !beating) throw new Error('two applications expected');
    const agent = stack.startAgent({
      script: (message) => {
        if (message.step_id !== 'health_check') return act.succeed(defaultOutput(message));
        return message.application_id === silent.id ? act.silent : act.hold;
      },
    });
    try {
      const created = await createDeployment(api, fixture);
      const isHealthCheckOf = (applicationId: string) => (message: TaskMessageV1) =>
        message.deployment_id === created.id &&
        message.step_id === 'health_check' &&
        message.application_id === applicationId;
      const forgotten = await agent.waitForMessage(isHealthCheckOf(silent.id));
      expect(forgotten).toMatchObject({ heartbeat_seconds: 1, timeout_seconds: 60 });

      // Alive for 1.5 heartbeat periods thanks to heartbeats, then done.
      const held = await agent.waitForMessage(isHealthCheckOf(beating.id));
      for (let beat = 0; beat < 5; beat += 1) {
        await sleep(300);
        expect((await agent.heartbeat(held)).rejectedWith).toBeUndefined();
      }
      expect((await agent.succeed(held)).rejectedWith).toBeUndefined();

      const deployment = await waitForDeployment(api, created.id);
      const [execution] = await settledExecutions(stack, api, deployment);
      const tasks = await listTasks(api, created.id);
      const timedOut = taskOf(tasks, silent.id, 'health_check');
      expect(deployment.status).toBe('failed');
      expect(deployment.error_message).toMatch(
        new RegExp(
          `^Task ${timedOut.id} \\(health_check\\) of application ${silent.id} failed: States\\.HeartbeatTimeout: `,
        ),
      );
      expect(execution?.status).toBe('FAILED');
      expect(timedOut.status).toBe('failed');
      expect(JSON.parse(timedOut.result)).toMatchObject({ error: 'States.HeartbeatTimeout' });
      expect(taskOf(tasks, beating.id, 'health_check').status).toBe('success');
      expect(tasks.filter((task) => task.status === 'running' || task.status === 'pending')).toEqual([]);

      // Waking up too late: the token has expired.
      expect((await agent.succeed(forgotten)).rejectedWith).toBe('TaskTimedOut');
    } finally {
      await agent.stop();
    }
  });
});

describe('a body on the task queue that is not a task message', () => {
  it('is left unanswered for the dead-letter queue, without disturbing a deployment', async () => {
    const { api } = stack;
    const fixture = await createFixture(api);
    const agent = stack.startAgent({});
    try {
      const stray = JSON.stringify({
        protocol_version: '2',
        task_token: 'AQ-secret-token',
        task_id: 'task_1',
      });
      await stack.sqs.client.send(
        new SendMessageCommand({ QueueUrl: stack.taskQueueUrl, MessageBody: stray }),
      );
      const created = await createDeployment(api, fixture);

      const deployment = await waitForDeployment(api, created.id);
      await settledExecutions(stack, api, deployment);
      expect(deployment.status).toBe('success');
      expect(agent.messagesOf(created.id)).toHaveLength(4);

      const deadline = Date.now() + 10_000;
      let dead: string[] = [];
      while (dead.length === 0 && Date.now() < deadline) {
        const { Messages = [] } = await stack.sqs.client.send(
          new ReceiveMessageCommand({ QueueUrl: stack.sqs.local.deadLetterQueueUrl, WaitTimeSeconds: 1 }),
        );
        dead = Messages.map((message) => message.Body ?? '');
      }
      expect(dead).toEqual([stray]);
      // Seen on each receive before the redrive, never answered, its token never repeated.
      expect(agent.invalid.length).toBeGreaterThanOrEqual(1);
      for (const delivery of agent.invalid) {
        expect(delivery.body).toBe(stray);
        expect(delivery.reason).toMatch(/^The message is not a task message v1 \(.*protocol_version/);
        expect(delivery.reason).not.toContain('AQ-secret-token');
      }
      expect(agent.answers.map((answer) => answer.message.deployment_id)).toEqual(
        Array.from({ length: 4 }, () => created.id),
      );
    } finally {
      await agent.stop();
    }
  });
});

describe('a failure whose cause is longer than the protocol allows', () => {
  it('is refused untruncated, and stored exactly once the agent cuts it to MAX_CAUSE_LENGTH', async () => {
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
      const line = 'kubectl rollout status: "deployment/api" \\ exceeded its progress deadline\n';
      const cause = line.repeat(Math.ceil((MAX_CAUSE_LENGTH + 1000) / line.length));
      expect(cause.length).toBeGreaterThan(MAX_CAUSE_LENGTH);

      // The protocol helper refuses it, and so does Step Functions (ValidationException).
      expect(() => taskFailureRequest(held, { error: 'RolloutFailed', cause })).toThrow();
      const refused = await stack.sfn.client
        .send(new SendTaskFailureCommand({ taskToken: held.task_token, error: 'RolloutFailed', cause }))
        .then(
          () => 'accepted',
          (error: unknown) => (error instanceof SFNServiceException ? error.name : String(error)),
        );
      expect(refused).toBe('ValidationException');

      // What docs/agent-protocol.md tells agents to send instead.
      const truncated = cause.slice(0, MAX_CAUSE_LENGTH);
      expect(
        (await agent.fail(held, { error: 'RolloutFailed', cause: truncated })).rejectedWith,
      ).toBeUndefined();

      const deployment = await waitForDeployment(api, created.id);
      await settledExecutions(stack, api, deployment);
      const tasks = await listTasks(api, created.id);
      const deploy = taskOf(tasks, application.id, 'deploy');
      expect(deploy.status).toBe('failed');
      expect(deploy.result).toBe(JSON.stringify({ error: 'RolloutFailed', cause: truncated }));
      expect(deployment.error_message).toBe(
        `Task ${deploy.id} (deploy) of application ${application.id} failed: RolloutFailed: ${truncated}`,
      );
      expect(taskOf(tasks, application.id, 'health_check').status).toBe('pending');
    } finally {
      await agent.stop();
    }
  });
});
