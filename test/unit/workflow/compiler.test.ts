import { describe, expect, it } from 'vitest';
import { TaskMessageV1 } from '../../../lambdas/agent-protocol';
import {
  CONDITION_FAILED,
  compileWorkflow,
  countHappyPathTransitions,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  definitionSubstitutions,
  executionTimeoutSeconds,
  happyPath,
  type JsonObject,
  renderDefinition,
  TABLE_NAME_PLACEHOLDER,
  TASK_QUEUE_URL_PLACEHOLDER,
  TemplateError,
  TRANSACTION_CANCELLED,
  transitionsPerStep,
  WORKFLOW_TEMPLATES,
  WorkflowStrategy,
} from '../../../lambdas/workflow';
import {
  allStates,
  allStrings,
  aslErrors,
  dispatchPositions,
  dispatchStateCounts,
  itemProcessorOf,
} from './definition-inspection';

const strategies = WorkflowStrategy.options;

describe.each(strategies)('compileWorkflow(%s)', (strategy) => {
  const template = WORKFLOW_TEMPLATES[strategy];
  const definition = compileWorkflow(template);

  it('passes asl-validator (schema, JSONPaths, ARNs, transitions)', () => {
    expect(aslErrors(definition)).toBe('');
  });

  it('uses JSONPath only: no QueryLanguage, JSONata or Assign anywhere', () => {
    const strings = allStrings(definition);
    expect(strings).not.toContain('QueryLanguage');
    expect(strings).not.toContain('Assign');
    expect(strings).not.toContain('Arguments');
    expect(strings).not.toContain('Output');
    expect(strings.filter((text) => text.includes('{%'))).toEqual([]);
  });

  it('has state names unique across the whole definition, each at most 80 characters', () => {
    const names = allStates(definition).map((walked) => walked.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((name) => name.length > 80)).toEqual([]);
  });

  it('dispatches every step exactly once, inside the application iteration', () => {
    const counts = dispatchStateCounts(definition);
    expect(Object.fromEntries(counts)).toEqual(
      Object.fromEntries(template.steps.map((step) => [step.id, 1])),
    );
    for (const walked of allStates(definition).filter((each) => each.name.endsWith('.Dispatch'))) {
      expect(walked.enclosing[0]).toBe('RunApplications');
    }
  });

  it('dispatches every step after the steps it depends on', () => {
    const positions = dispatchPositions(definition);
    for (const step of template.steps) {
      for (const dependency of step.depends_on) {
        expect(positions.get(dependency)).toBeLessThan(positions.get(step.id) ?? -1);
      }
    }
  });

  it('keeps the table name and queue URL as placeholders for CDK and the local runtime', () => {
    const strings = allStrings(definition);
    expect(strings).toContain(TABLE_NAME_PLACEHOLDER);
    expect(strings).toContain(TASK_QUEUE_URL_PLACEHOLDER);
    expect(definitionSubstitutions({ tableName: 't', taskQueueUrl: 'q' })).toEqual({
      TableName: 't',
      TaskQueueUrl: 'q',
    });

    const rendered = renderDefinition(definition, {
      tableName: 'deploy-manager-Table',
      taskQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks',
    });
    expect(rendered).not.toContain('${');
    const parsed = JSON.parse(rendered) as JsonObject;
    expect(allStrings(parsed)).toContain('https://sqs.eu-west-1.amazonaws.com/123456789012/tasks');
    expect(aslErrors(JSON.parse(rendered))).toBe('');
  });

  it('gives each Dispatch the step heartbeat and timeout, and a message shaped as TaskMessageV1', () => {
    for (const step of template.steps) {
      const dispatch = allStates(definition).find((walked) => walked.name === `${step.id}.Dispatch`)?.state;
      if (!dispatch) throw new Error(`no ${step.id}.Dispatch`);
      expect(dispatch.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
      expect(dispatch.HeartbeatSeconds).toBe(step.heartbeat_seconds ?? DEFAULT_HEARTBEAT_SECONDS);
      expect(dispatch.TimeoutSeconds).toBe(step.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS);
      const body = (dispatch.Parameters as JsonObject).MessageBody as JsonObject;
      const members = Object.keys(body).map((key) => key.replace(/\.\$$/, ''));
      expect(members.sort()).toEqual(Object.keys(TaskMessageV1.shape).sort());
      expect(body['task_token.$']).toBe('$$.Task.Token');
    }
  });

  it('never retries a failed condition, and retries every DynamoDB state on transient errors', () => {
    /** Only the first retrier whose ErrorEquals matches an error applies. */
    const retrierFor = (retriers: readonly JsonObject[], error: string) =>
      retriers.find((retrier) => {
        const errors = retrier.ErrorEquals as string[];
        return (
          errors.includes(error) ||
          errors.includes('States.ALL') ||
          (!error.startsWith('States.') && errors.includes('States.TaskFailed'))
        );
      });
    const tasks = allStates(definition).filter(({ state }) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const { name, state } of tasks) {
      const retriers = (state.Retry ?? []) as JsonObject[];
      const resource = String(state.Resource);
      if (resource.includes(':sqs:')) continue;
      const sdk = resource.includes(':aws-sdk:');
      const transient = sdk
        ? 'DynamoDb.ProvisionedThroughputExceededException'
        : 'DynamoDB.ProvisionedThroughputExceededException';
      expect(retrierFor(retriers, transient)?.MaxAttempts, `${name} on ${transient}`).toBeGreaterThan(0);
      for (const answer of sdk ? [TRANSACTION_CANCELLED] : [CONDITION_FAILED]) {
        expect(retrierFor(retriers, answer)?.MaxAttempts ?? 0, `${name} on ${answer}`).toBe(0);
      }
    }
  });

  it('sends a cancelled transaction to its answer on a failed condition, and writes it again after a conflict', () => {
    const transactions = allStates(definition).filter(
      ({ state }) => state.Resource === 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems',
    );
    expect(transactions.map(({ name }) => name)).toContain('build.MarkRunning');
    for (const { name, state } of transactions) {
      const [cancelled] = state.Catch as JsonObject[];
      expect(cancelled).toMatchObject({ ErrorEquals: [TRANSACTION_CANCELLED], Next: `${name}.Cancelled` });
      const check = allStates(definition).find((entry) => entry.name === `${name}.Cancelled`)?.state;
      const choices = (check?.Choices ?? []) as JsonObject[];
      expect(choices.find((choice) => choice.StringMatches === '*ConditionalCheckFailed*')?.Next).not.toBe(
        `${name}.WaitToRewrite`,
      );
      const transient = choices.find((choice) => Array.isArray(choice.Or));
      expect(transient?.Next).toBe(`${name}.WaitToRewrite`);
      expect(JSON.stringify(transient)).toContain('*TransactionConflict*');
      const wait = allStates(definition).find((entry) => entry.name === `${name}.WaitToRewrite`)?.state;
      expect(wait).toMatchObject({ Type: 'Wait', Next: name });
    }
  });

  it("never retries the agent dispatch: an SQS error name may be the agent's own answer", () => {
    for (const { name, state } of allStates(definition)) {
      if (!String(state.Resource).includes(':sqs:')) continue;
      expect(state.Retry, name).toBeUndefined();
      const catchers = state.Catch as JsonObject[];
      expect(catchers[0]).toMatchObject({ ErrorEquals: ['States.DataLimitExceeded'] });
      expect(
        catchers.find((catcher) => (catcher.ErrorEquals as string[]).includes('SQS.InternalError'))?.Next,
      ).toBe(name.replace('.Dispatch', '.CheckSendFailure'));
    }
  });

  it('moves the counters of the task type with each task status, in the same transaction', () => {
    const items = (name: string) => {
      const parameters = allStates(definition).find((entry) => entry.name === name)?.state.Parameters;
      const transactItems = (parameters as JsonObject | undefined)?.TransactItems as JsonObject[] | undefined;
      return (transactItems ?? []).map((item) => item.Update as JsonObject);
    };
    const [task, ...counters] = items('build.MarkSucceeded');
    expect(task?.ConditionExpression).toBe(
      '#status = :from_status AND (size(#pending_result) <= :max_output_bytes AND begins_with(#pending_result, :json_object))',
    );
    expect(task?.UpdateExpression).toBe(
      'SET #status = :status, #gsi3pk = :status_partition, #updated_at = :now, #result = #pending_result, #completed_at = :now REMOVE #pending_result',
    );
    expect(
      counters.map((counter) => [
        (counter.Key as { pk: { S: string } }).pk.S,
        counter.ExpressionAttributeValues,
      ]),
    ).toEqual([
      ['COUNTER#TASK#status=running', { ':delta': { N: '-1' } }],
      ['COUNTER#TASK#status=running&type=build', { ':delta': { N: '-1' } }],
      ['COUNTER#TASK#status=success', { ':delta': { N: '1' } }],
      ['COUNTER#TASK#status=success&type=build', { ':delta': { N: '1' } }],
    ]);
    for (const counter of counters) expect(counter.UpdateExpression).toBe('ADD #count :delta');
  });

  it('catches every failure inside an iteration, so no task is left running and the Map never fails', () => {
    for (const { name, state, enclosing } of allStates(definition)) {
      if (!enclosing.includes('RunApplications') || state.Type !== 'Task') continue;
      const catchers = (state.Catch ?? []) as JsonObject[];
      expect(
        catchers.some((catcher) => (catcher.ErrorEquals as string[]).includes('States.ALL')),
        name,
      ).toBe(true);
    }
  });
});

describe('transitions per task (the cost of a deployment)', () => {
  it.each([
    // [strategy, steps, per deployment, per application, 1 application, 2 applications]
    ['standard', 4, 6, 24, 30, 54],
    ['blue-green', 5, 6, 30, 36, 66],
  ] as const)(
    '%s: 6 per task, %i steps, %i per deployment',
    (strategy, steps, fixed, perApplication, one, two) => {
      const definition = compileWorkflow(WORKFLOW_TEMPLATES[strategy]);
      const path = happyPath(definition);
      expect(path.deploymentStates).toEqual([
        'MarkDeploymentRunning',
        'RunApplications',
        'SummarizeApplications',
        'CheckApplications',
        'MarkDeploymentSucceeded',
        'DeploymentSucceeded',
      ]);
      expect(path.deploymentStates).toHaveLength(fixed);
      expect(path.applicationStates).toHaveLength(perApplication);
      expect([...transitionsPerStep(definition).values()]).toEqual(Array(steps).fill(6));
      expect(countHappyPathTransitions(definition, 1)).toBe(one);
      expect(countHappyPathTransitions(definition, 2)).toBe(two);
    },
  );

  it('a Parallel layer costs its Parallel state and the Choice after it', () => {
    const definition = compileWorkflow({
      name: 'fan-out',
      steps: [
        { id: 'build', type: 'build', depends_on: [], config: {} },
        { id: 'test', type: 'test', depends_on: ['build'], config: {} },
        { id: 'lint', type: 'lint', depends_on: ['build'], config: {} },
      ],
    });
    const task = (step: string) =>
      ['ReadTask', 'CheckTask', 'MarkRunning', 'Dispatch', 'StoreResult', 'MarkSucceeded'].map(
        (name) => `${step}.${name}`,
      );
    expect(happyPath(definition).applicationStates).toEqual([
      ...task('build'),
      'Layer2',
      ...task('test'),
      ...task('lint'),
      'Layer2.Check',
      'Layer2.Done',
    ]);
  });
});

describe('compileWorkflow, the deployment-level states', () => {
  const definition = compileWorkflow(WORKFLOW_TEMPLATES.standard);
  const state = (name: string) => definition.States[name] as JsonObject;

  it('marks the deployment running from pending (setting started_at) or, on a retry, from running', () => {
    const items = (state('MarkDeploymentRunning').Parameters as JsonObject).TransactItems as JsonObject[];
    const start = items[0]?.Update as JsonObject;
    expect(start.ConditionExpression).toBe('#status = :from_status');
    expect(start.UpdateExpression).toBe(
      'SET #status = :status, #gsi3pk = :status_partition, #updated_at = :now, #started_at = :now',
    );
    expect(start.ExpressionAttributeValues).toMatchObject({
      ':status': { S: 'running' },
      ':status_partition': { S: 'DEPLOYMENT#status=running' },
      ':from_status': { S: 'pending' },
    });
    // The counters of the environment and version are read from the execution input.
    expect(items.map((item) => ((item.Update as JsonObject).Key as JsonObject).pk)).toContainEqual({
      'S.$':
        "States.Format('COUNTER#DEPLOYMENT#environment_id={}&status=running&version_id={}', $.environment_id, $.version_id)",
    });
    expect(state('MarkDeploymentRunning.Cancelled').Choices).toContainEqual({
      Variable: '$.error.Cause',
      StringMatches: '*ConditionalCheckFailed*',
      Next: 'MarkDeploymentResumed',
    });
    const resume = state('MarkDeploymentResumed').Parameters as JsonObject;
    expect(resume.ConditionExpression).toBe('#status = :from_status');
    expect(resume.UpdateExpression).not.toContain('started_at');
    expect(resume.ExpressionAttributeValues).toMatchObject({ ':from_status': { S: 'running' } });
    expect(state('MarkDeploymentResumed').Catch).toEqual([
      { ErrorEquals: [CONDITION_FAILED], ResultPath: '$.error', Next: 'DeploymentNotRunnable' },
    ]);
    expect(state('DeploymentNotRunnable')).toEqual({ Type: 'Succeed' });
  });

  it('writes the final status, its counters and the lock release in one transaction', () => {
    for (const name of ['MarkDeploymentSucceeded', 'MarkDeploymentFailed']) {
      const items = (state(name).Parameters as JsonObject).TransactItems as JsonObject[];
      expect(items.at(-1)?.Delete).toMatchObject({
        Key: { pk: { 'S.$': "States.Format('ENVIRONMENT#{}', $.environment_id)" }, sk: { S: 'LOCK' } },
        ConditionExpression: '#deployment_id = :deployment_id',
      });
      expect(state(`${name}.Cancelled`).Choices).toContainEqual({
        Variable: '$.error.Cause',
        StringMatches: '*ConditionalCheckFailed*',
        Next: `${name}Alone`,
      });
    }
  });

  it('runs at most 10 applications at once', () => {
    expect(state('RunApplications').MaxConcurrency).toBe(10);
    expect(state('RunApplications').ItemsPath).toBe('$.applications');
  });

  it('ends a failed deployment with a Fail state whose cause is the first failure', () => {
    expect(state('DeploymentFailed')).toEqual({
      Type: 'Fail',
      Error: 'DeploymentFailed',
      CausePath: '$.failure.messages[0]',
    });
  });

  it('releases the lock only while this deployment holds it, tolerating a lock already gone', () => {
    for (const name of ['ReleaseEnvironmentLock', 'ReleaseEnvironmentLockAfterFailure']) {
      const release = state(name);
      expect(release.Resource).toBe('arn:aws:states:::dynamodb:deleteItem');
      expect(release.Parameters).toMatchObject({
        Key: { pk: { 'S.$': "States.Format('ENVIRONMENT#{}', $.environment_id)" }, sk: { S: 'LOCK' } },
        ConditionExpression: '#deployment_id = :deployment_id',
        ExpressionAttributeValues: { ':deployment_id': { 'S.$': '$.deployment_id' } },
      });
      expect((release.Catch as JsonObject[])[0]?.ErrorEquals).toEqual([CONDITION_FAILED]);
    }
  });

  it('runs every template step inside the Map iteration, starting with build, each state once', () => {
    const processor = itemProcessorOf(definition);
    expect(processor.StartAt).toBe('build.ReadTask');
    const names = allStates(processor).map(({ name }) => name);
    expect(new Set(names).size).toBe(names.length);
    for (const step of WORKFLOW_TEMPLATES.standard.steps) {
      for (const suffix of ['ReadTask', 'MarkRunning', 'Dispatch', 'StoreResult', 'MarkSucceeded']) {
        expect(names, `${step.id}.${suffix}`).toContain(`${step.id}.${suffix}`);
      }
    }
  });

  it('limits an execution to its slowest path of task time limits, plus an hour', () => {
    // Four (five) steps in a chain, one hour each by default.
    expect(definition.TimeoutSeconds).toBe(5 * 3600);
    expect(compileWorkflow(WORKFLOW_TEMPLATES['blue-green']).TimeoutSeconds).toBe(6 * 3600);
    // Steps side by side count once, as long as the slower one.
    const fanOut = {
      name: 'fan-out',
      steps: [
        { id: 'build', type: 'build', depends_on: [], config: {}, timeout_seconds: 600 },
        { id: 'test', type: 'test', depends_on: ['build'], config: {}, timeout_seconds: 200 },
        { id: 'scan', type: 'scan', depends_on: ['build'], config: {}, timeout_seconds: 300 },
        { id: 'deploy', type: 'deploy', depends_on: ['test', 'scan'], config: {}, timeout_seconds: 900 },
      ],
    };
    expect(executionTimeoutSeconds(fanOut)).toBe(600 + 300 + 900 + 3600);
  });

  it('refuses an invalid template', () => {
    expect(() => compileWorkflow({ name: 'empty', steps: [] })).toThrow(TemplateError);
  });
});
