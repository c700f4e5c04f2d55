import { type StateMachineDefinition as InterpreterDefinition, StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { TaskMessageV1 } from '../../../lambdas/agent-protocol';
import {
  compileWorkflow,
  countHappyPathTransitions,
  dispatchMessageBody,
  WORKFLOW_TEMPLATES,
  WorkflowStrategy,
} from '../../../lambdas/workflow';
import { MISSING_CAUSE, stepStates } from '../../../lambdas/workflow/task-states';
import { attributeOf, createDeployment, statusOf } from './fixture';
import { type Agent, AwsError, runLocally } from './local-run';

/**
 * Each compiled template, run once by aws-local-stepfunctions (the interpreter under the
 * local Step Functions stand-in) with in-memory fakes for DynamoDB and the agent: proof
 * that every JSONPath and intrinsic the compiler writes is one the interpreter runs.
 */

const succeedingAgent: Agent = (message) => ({
  image: `org/app:${message.step_id}`,
  attempt: message.attempt,
});

const failingAt =
  (stepId: string, applicationId = 'app_1'): Agent =>
  (message) => {
    if (message.step_id === stepId && message.application_id === applicationId) {
      throw new AwsError('HealthCheckFailed', 'GET /health answered 503');
    }
    return succeedingAgent(message);
  };

describe.each(WorkflowStrategy.options)('the %s definition in the local interpreter', (strategy) => {
  const template = WORKFLOW_TEMPLATES[strategy];
  const definition = compileWorkflow(template);
  const stepIds = template.steps.map((step) => step.id);

  it('runs the happy path: every task once, in order, all statuses written, lock released', async () => {
    const deployment = createDeployment(template, ['app_1', 'app_2']);
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
    });

    expect(run.status).toBe('SUCCEEDED');
    for (const applicationId of ['app_1', 'app_2']) {
      expect(
        run.messages.filter((message) => message.application_id === applicationId).map((m) => m.step_id),
      ).toEqual(stepIds);
      for (const stepId of stepIds) {
        const task = deployment.task(applicationId, stepId);
        expect(statusOf(task)).toBe('success');
        expect(attributeOf(task, 'gsi3pk')).toBe('TASK#status=success');
        expect(task.attempt).toEqual({ N: '1' });
        expect(JSON.parse(attributeOf(task, 'result') ?? '')).toEqual({
          image: `org/app:${stepId}`,
          attempt: 1,
        });
        expect(attributeOf(task, 'started_at')).toBe('2024-10-24T10:00:00Z');
        expect(attributeOf(task, 'completed_at')).toBe('2024-10-24T10:00:00Z');
      }
    }
    expect(statusOf(deployment.deployment())).toBe('success');
    expect(attributeOf(deployment.deployment(), 'gsi3pk')).toBe('DEPLOYMENT#status=success');
    expect(attributeOf(deployment.deployment(), 'started_at')).toBe('2024-10-24T10:00:00Z');
    expect(attributeOf(deployment.deployment(), 'completed_at')).toBe('2024-10-24T10:00:00Z');
    expect(deployment.lock()).toBeUndefined();
    // The interpreter entered exactly the states the transitions report counts.
    expect(run.entered).toHaveLength(countHappyPathTransitions(definition, 2));
  });

  it('fails the deployment when a health check fails, naming the task, while the other application finishes', async () => {
    const deployment = createDeployment(template, ['app_1', 'app_2']);
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: failingAt('health_check'),
    });

    const failedTask = deployment.taskId('app_1', 'health_check');
    const message = `Task ${failedTask} (health_check) of application app_1 failed: HealthCheckFailed: GET /health answered 503`;
    expect(run).toMatchObject({ status: 'FAILED', error: 'DeploymentFailed', cause: message });
    expect(statusOf(deployment.deployment())).toBe('failed');
    expect(attributeOf(deployment.deployment(), 'error_message')).toBe(message);
    expect(attributeOf(deployment.deployment(), 'gsi3pk')).toBe('DEPLOYMENT#status=failed');
    expect(deployment.lock()).toBeUndefined();

    const healthCheck = deployment.task('app_1', 'health_check');
    expect(statusOf(healthCheck)).toBe('failed');
    expect(attributeOf(healthCheck, 'gsi3pk')).toBe('TASK#status=failed');
    expect(JSON.parse(attributeOf(healthCheck, 'result') ?? '')).toEqual({
      error: 'HealthCheckFailed',
      cause: 'GET /health answered 503',
    });
    // Steps after the failed one stay pending; the other application is not cut short.
    const after = stepIds.slice(stepIds.indexOf('health_check') + 1);
    for (const stepId of after) expect(statusOf(deployment.task('app_1', stepId))).toBe('pending');
    for (const stepId of stepIds) expect(statusOf(deployment.task('app_2', stepId))).toBe('success');
    const running = [...deployment.table.items.values()].filter((item) => statusOf(item) === 'running');
    expect(running).toEqual([]);
  });

  it('resumes: a task already succeeded is skipped without dispatch, a reset task runs again', async () => {
    const deployment = createDeployment(template);
    const first = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: failingAt('health_check'),
    });
    expect(first.status).toBe('FAILED');

    // What POST /tasks/{id}/retry does: task back to pending, deployment running, lock taken again.
    const retried = deployment.task('app_1', 'health_check');
    retried.status = { S: 'pending' };
    delete retried.result;
    deployment.deployment().status = { S: 'running' };
    deployment.table.put({
      pk: { S: 'ENVIRONMENT#env_1' },
      sk: { S: 'LOCK' },
      deployment_id: { S: 'dep_1' },
    });

    const second = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
      enteredTime: '2024-10-24T11:30:00.000Z',
    });
    expect(second.status).toBe('SUCCEEDED');
    expect(second.entered.slice(0, 3)).toEqual([
      'MarkDeploymentRunning',
      'MarkDeploymentRunning.Cancelled',
      'MarkDeploymentResumed',
    ]);
    expect(attributeOf(deployment.deployment(), 'started_at')).toBe('2024-10-24T10:00:00Z');
    expect(attributeOf(deployment.deployment(), 'completed_at')).toBe('2024-10-24T11:30:00Z');
    expect(attributeOf(deployment.task('app_1', 'health_check'), 'started_at')).toBe('2024-10-24T11:30:00Z');
    const resumedSteps = stepIds.slice(stepIds.indexOf('health_check'));
    expect(second.messages.map((message) => [message.step_id, message.attempt])).toEqual(
      resumedSteps.map((stepId) => [stepId, stepId === 'health_check' ? 2 : 1]),
    );
    for (const stepId of stepIds) expect(statusOf(deployment.task('app_1', stepId))).toBe('success');
    expect(deployment.task('app_1', 'build').attempt).toEqual({ N: '1' });
    expect(statusOf(deployment.deployment())).toBe('success');
    expect(second.entered).toContain('build.ReadTask');
    expect(second.entered).not.toContain('build.Dispatch');
  });

  it('skips a step whose MarkRunning meets a failed condition when the task reads back as success', async () => {
    const deployment = createDeployment(template);
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
      override: {
        // Another execution finished it between the read and the write.
        'build.MarkRunning': () => {
          deployment.task('app_1', 'build').status = { S: 'success' };
          throw new AwsError(
            'DynamoDb.TransactionCanceledException',
            'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None] (Service: DynamoDb, Status Code: 400, Request ID: fake)',
          );
        },
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.messages.map((message) => message.step_id)).toEqual(stepIds.slice(1));
    expect(run.entered.slice(0, 9)).toEqual([
      'MarkDeploymentRunning',
      'RunApplications',
      'build.ReadTask',
      'build.CheckTask',
      'build.MarkRunning',
      'build.MarkRunning.Cancelled',
      'build.ReadTaskAgain',
      'build.CheckTaskAgain',
      `${stepIds[1]}.ReadTask`,
    ]);
  });

  it('writes a conflicting transaction again instead of failing the task', async () => {
    const deployment = createDeployment(template);
    let conflicts = 0;
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
      override: {
        'build.MarkSucceeded': (parameters) => {
          conflicts += 1;
          if (conflicts === 1) {
            throw new AwsError(
              'DynamoDb.TransactionCanceledException',
              'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None] (Service: DynamoDb, Status Code: 400, Request ID: fake)',
            );
          }
          return deployment.table.transactWriteItems(
            parameters as Parameters<typeof deployment.table.transactWriteItems>[0],
          );
        },
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(conflicts).toBe(2);
    expect(statusOf(deployment.task('app_1', 'build'))).toBe('success');
    expect(run.entered).toContain('build.MarkSucceeded.WaitToRewrite');
  });
});

describe('the standard definition in the local interpreter, edge cases', () => {
  const template = WORKFLOW_TEMPLATES.standard;
  const definition = compileWorkflow(template);

  it('fails without dispatching when a task is failed rather than pending (retry not reset)', async () => {
    const deployment = createDeployment(template);
    deployment.task('app_1', 'build').status = { S: 'failed' };
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
    });
    const message = `Task ${deployment.taskId('app_1', 'build')} (build) of application app_1 is failed`;
    expect(run).toMatchObject({ status: 'FAILED', error: 'DeploymentFailed', cause: message });
    expect(run.messages).toEqual([]);
    expect(attributeOf(deployment.deployment(), 'error_message')).toBe(message);
  });

  it('ends quietly, touching nothing, when the deployment was cancelled before the execution began', async () => {
    const deployment = createDeployment(template);
    deployment.deployment().status = { S: 'failed' };
    const before = structuredClone([...deployment.table.items.entries()]);
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.entered).toEqual([
      'MarkDeploymentRunning',
      'MarkDeploymentRunning.Cancelled',
      'MarkDeploymentResumed',
      'DeploymentNotRunnable',
    ]);
    expect([...deployment.table.items.entries()]).toEqual(before);
  });

  it('keeps a cancel verdict and still finishes when the lock is already gone', async () => {
    const deployment = createDeployment(template);
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: (message) => {
        // The cancel lands while the last task runs: deployment failed, lock released.
        if (message.step_id === 'health_check') {
          deployment.deployment().status = { S: 'failed' };
          deployment.table.items.delete('ENVIRONMENT#env_1|LOCK');
        }
        return succeedingAgent(message);
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(statusOf(deployment.deployment())).toBe('failed');
  });

  it('fails a task that times out (States.Timeout, no cause) and still records a readable result', async () => {
    const deployment = createDeployment(template);
    const run = await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: (message) => {
        if (message.step_id === 'deploy') throw new AwsError('States.Timeout', '');
        return succeedingAgent(message);
      },
    });
    expect(run.cause).toBe(
      `Task ${deployment.taskId('app_1', 'deploy')} (deploy) of application app_1 failed: States.Timeout: ${MISSING_CAUSE}`,
    );
    expect(JSON.parse(attributeOf(deployment.task('app_1', 'deploy'), 'result') ?? '')).toEqual({
      error: 'States.Timeout',
      cause: MISSING_CAUSE,
    });
    expect(statusOf(deployment.task('app_1', 'health_check'))).toBe('pending');
  });

  it('supplies a cause when an error comes without one (AWS may omit it)', async () => {
    const deployment = createDeployment(template);
    const step = template.steps[2];
    if (!step) throw new Error('no deploy step');
    deployment.task('app_1', step.id).status = { S: 'running' };
    const [application] = deployment.input.applications;
    // The failure funnel alone, entered as Dispatch's Catch would enter it.
    const funnel = [
      'CheckCause',
      'AddCause',
      'DescribeFailure',
      'MarkFailed',
      'MarkFailed.Cancelled',
      'MarkFailed.WaitToRewrite',
      'Failed',
    ].map((name) => `${step.id}.${name}`);
    const states = Object.fromEntries(
      Object.entries(stepStates(step, undefined)).filter(([name]) => funnel.includes(name)),
    );
    const run = await runLocally({
      definition: { StartAt: `${step.id}.CheckCause`, States: states },
      input: {
        ...deployment.input,
        ...application,
        summary: { application_id: 'app_1', failed: false },
        error: { Error: 'AgentGaveUp' },
      },
      table: deployment.table,
      agent: succeedingAgent,
    });
    expect(run.output).toEqual({
      application_id: 'app_1',
      failed: true,
      error_message: `Task ${deployment.taskId('app_1', step.id)} (deploy) of application app_1 failed: AgentGaveUp: ${MISSING_CAUSE}`,
    });
    expect(JSON.parse(attributeOf(deployment.task('app_1', step.id), 'result') ?? '')).toEqual({
      error: 'AgentGaveUp',
      cause: MISSING_CAUSE,
    });
  });

  it('writes second-precision UTC timestamps when the entry time has no fraction', async () => {
    const deployment = createDeployment(template);
    await runLocally({
      definition,
      input: deployment.input,
      table: deployment.table,
      agent: succeedingAgent,
      enteredTime: '2024-10-24T10:00:07Z',
    });
    expect(attributeOf(deployment.deployment(), 'completed_at')).toBe('2024-10-24T10:00:07Z');
  });
});

describe('the Dispatch MessageBody, rendered by the interpreter', () => {
  it('parses as TaskMessageV1', async () => {
    const step = WORKFLOW_TEMPLATES['blue-green'].steps.find((each) => each.id === 'cleanup_blue');
    if (!step) throw new Error('no cleanup_blue');
    const machine = new StateMachine({
      StartAt: 'Render',
      States: { Render: { Type: 'Pass', Parameters: dispatchMessageBody(step), End: true } },
    } as unknown as InterpreterDefinition);
    const iterationState = {
      application_id: 'app_1',
      deployment_id: 'dep_1',
      environment_id: 'env_1',
      version_id: 'ver_1',
      tasks: { cleanup_blue: { task_id: 'task_9', payload: { delay: 300, secret_keys: ['kubeconfig'] } } },
      existing: { Item: { status: { S: 'pending' }, attempt: { N: '1' } } },
    };
    const rendered = await machine.run(iterationState, { context: { Task: { Token: 'AAAA-token' } } }).result;
    expect(TaskMessageV1.parse(rendered)).toEqual({
      protocol_version: '1',
      task_id: 'task_9',
      task_type: 'cleanup_blue',
      step_id: 'cleanup_blue',
      deployment_id: 'dep_1',
      application_id: 'app_1',
      environment_id: 'env_1',
      version_id: 'ver_1',
      attempt: 2,
      payload: { delay: 300, secret_keys: ['kubeconfig'] },
      task_token: 'AAAA-token',
      heartbeat_seconds: 600,
      timeout_seconds: 3600,
    });
  });
});

describe('known interpreter quirk', () => {
  // aws-local-stepfunctions 3.0.0 removes every backslash from a string an intrinsic returns,
  // so States.JsonToString of a text holding a quote is not valid JSON locally (AWS is
  // fine). The Step Functions stand-in loads the interpreter patched
  // (local/stepfunctions/interpreter.ts, tested in test/integration/stepfunctions-intrinsics);
  // this test runs the package as published and tells us when upstream changes.
  it('strips backslashes from intrinsic results', async () => {
    const machine = new StateMachine({
      StartAt: 'Stringify',
      States: { Stringify: { Type: 'Pass', Parameters: { 'text.$': 'States.JsonToString($)' }, End: true } },
    } as unknown as InterpreterDefinition);
    const output = await machine.run({ cause: 'said "no"' }).result;
    expect(output).toEqual({ text: '{"cause":"said "no""}' });
  });
});
