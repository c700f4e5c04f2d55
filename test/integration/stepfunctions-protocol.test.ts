import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  InvalidOutput,
  InvalidToken,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { useSqsLocal } from '../support/sqs';
import {
  executionHistory,
  statesEntered,
  useStepFunctionsLocal,
  waitForExecutionEnd,
} from '../support/stepfunctions';
import { receiveTask, receiveTasks } from '../support/task-agent';

// The stand-in as an API: what @aws-sdk/client-sfn sees when pointed at it by endpoint.

const WAIT_FOR_AGENT = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const tokenMessage = z.object({ task_token: z.string(), kind: z.string().optional() });

function waitingTask(extra: Record<string, unknown> = {}, kind = 'task') {
  return {
    Type: 'Task',
    Resource: WAIT_FOR_AGENT,
    Parameters: { 'QueueUrl.$': '$.queue_url', MessageBody: { kind, 'task_token.$': '$$.Task.Token' } },
    ...extra,
  };
}

const passThrough = { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } };

const contextProbe = {
  StartAt: 'Capture',
  States: {
    Capture: {
      Type: 'Pass',
      Parameters: {
        'id.$': '$$.Execution.Id',
        'name.$': '$$.Execution.Name',
        'input.$': '$$.Execution.Input',
        'start.$': '$$.Execution.StartTime',
        'stateMachine.$': '$$.StateMachine.Id',
        'state.$': '$$.State.Name',
        'entered.$': '$$.State.EnteredTime',
        'label.$': "States.Format('{}@{}', $$.State.Name, $$.Execution.Name)",
      },
      ResultPath: '$.root',
      Next: 'Fork',
    },
    Fork: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'InBranch',
          States: {
            InBranch: {
              Type: 'Pass',
              Parameters: {
                'input.$': '$$.Execution.Input',
                'start.$': '$$.Execution.StartTime',
                'state.$': '$$.State.Name',
              },
              End: true,
            },
          },
        },
      ],
      ResultPath: '$.branch',
      End: true,
    },
  },
};

const timedTask = {
  StartAt: 'Work',
  States: {
    Work: waitingTask({
      TimeoutSeconds: 1,
      Catch: [
        { ErrorEquals: ['States.TaskFailed'], Next: 'WrongCatcher' },
        { ErrorEquals: ['States.Timeout'], Next: 'TimedOut' },
      ],
      End: true,
    }),
    WrongCatcher: { Type: 'Fail', Error: 'WrongCatcher' },
    TimedOut: { Type: 'Pass', End: true },
  },
};

const forkWithCatch = {
  StartAt: 'Fork',
  States: {
    Fork: {
      Type: 'Parallel',
      Branches: ['first', 'second'].map((kind) => ({
        StartAt: `Run_${kind}`,
        States: { [`Run_${kind}`]: waitingTask({ End: true }, kind) },
      })),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AfterFailure' }],
      End: true,
    },
    AfterFailure: waitingTask({ End: true }, 'after'),
  },
};

// The interpreter's States.JsonMerge merges into its first argument in place; the
// stand-in must keep that from leaking into the context object and later states.
const mergeConfigs = {
  StartAt: 'Merge',
  States: {
    Merge: {
      Type: 'Pass',
      Parameters: {
        'merged.$': 'States.JsonMerge($$.Execution.Input.defaults, $.overrides, false)',
        'nested.$': 'States.JsonMerge(States.JsonMerge($.defaults, $.overrides, false), $.extra, false)',
      },
      ResultPath: '$.merged',
      Next: 'Read',
    },
    Read: {
      Type: 'Pass',
      Parameters: {
        'defaults.$': '$$.Execution.Input.defaults',
        'own.$': '$.defaults',
        'merged.$': '$.merged',
      },
      End: true,
    },
  },
};

const slowMachine = {
  TimeoutSeconds: 1,
  StartAt: 'Sleep',
  States: { Sleep: { Type: 'Wait', Seconds: 30, End: true } },
};

describe('the Step Functions stand-in speaking the Step Functions API', () => {
  const sqs = useSqsLocal();
  const sfn = useStepFunctionsLocal(() => ({
    dynamoDbEndpoint: inject('dynamoDbEndpoint'),
    sqsEndpoint: sqs.local.endpoint,
    stateMachines: [
      { name: 'pass-through', definition: JSON.stringify(passThrough) },
      { name: 'context-probe', definition: JSON.stringify(contextProbe) },
      {
        name: 'one-task',
        definition: JSON.stringify({ StartAt: 'Work', States: { Work: waitingTask({ End: true }) } }),
      },
      { name: 'timed-task', definition: JSON.stringify(timedTask) },
      { name: 'fork-with-catch', definition: JSON.stringify(forkWithCatch) },
      { name: 'slow', definition: JSON.stringify(slowMachine) },
      { name: 'merge-configs', definition: JSON.stringify(mergeConfigs) },
      {
        name: 'bare-fail',
        definition: JSON.stringify({ StartAt: 'Stop', States: { Stop: { Type: 'Fail' } } }),
      },
    ],
  }));

  async function start(stateMachine: string, input: unknown, name?: string) {
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({
        stateMachineArn: sfn.stateMachineArn(stateMachine),
        input: JSON.stringify(input),
        name,
      }),
    );
    if (executionArn === undefined) throw new Error('StartExecution returned no executionArn');
    return executionArn;
  }

  it('uses the ARNs AWS would use', async () => {
    expect(sfn.stateMachineArn('pass-through')).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:pass-through',
    );
    const executionArn = await start('pass-through', {}, 'first-run');
    expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:pass-through:first-run');
  });

  it('registers a state machine with CreateStateMachine, idempotently for the same definition', async () => {
    const definition = JSON.stringify({
      StartAt: 'Echo',
      States: { Echo: { Type: 'Pass', Result: { ok: 1 }, End: true } },
    });
    const created = await sfn.client.send(
      new CreateStateMachineCommand({
        name: 'remote',
        definition,
        roleArn: 'arn:aws:iam::000000000000:role/sfn',
      }),
    );
    expect(created.stateMachineArn).toBe(sfn.stateMachineArn('remote'));
    expect(created.creationDate).toBeInstanceOf(Date);
    const again = await sfn.client.send(
      new CreateStateMachineCommand({
        name: 'remote',
        definition,
        roleArn: 'arn:aws:iam::000000000000:role/sfn',
      }),
    );
    expect(again.stateMachineArn).toBe(created.stateMachineArn);
    await expect(
      sfn.client.send(
        new CreateStateMachineCommand({
          name: 'remote',
          definition: JSON.stringify(passThrough),
          roleArn: 'r',
        }),
      ),
    ).rejects.toBeInstanceOf(StateMachineAlreadyExists);

    const described = await sfn.client.send(
      new DescribeStateMachineCommand({ stateMachineArn: sfn.stateMachineArn('remote') }),
    );
    expect(described).toMatchObject({ name: 'remote', definition, status: 'ACTIVE', type: 'STANDARD' });
    const execution = await waitForExecutionEnd(sfn.client, await start('remote', {}));
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":1}' });
  });

  it.each([
    ['text that is not JSON', '{'],
    ['a definition without StartAt', JSON.stringify({ States: { A: { Type: 'Pass', End: true } } })],
    [
      'a resource the stand-in cannot run',
      JSON.stringify({
        StartAt: 'Call',
        States: {
          Call: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:f', End: true },
        },
      }),
    ],
    [
      'variables, which the interpreter cannot resolve',
      JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } }),
    ],
  ])('refuses %s with InvalidDefinition', async (_case, definition) => {
    await expect(
      sfn.client.send(new CreateStateMachineCommand({ name: 'broken', definition, roleArn: 'r' })),
    ).rejects.toBeInstanceOf(InvalidDefinition);
  });

  it('gives the context object AWS values, also inside Parallel branches', async () => {
    const input = { deployment_id: 'dep_1' };
    const executionArn = await start('context-probe', input, 'probe-1');
    const execution = await waitForExecutionEnd(sfn.client, executionArn);
    const output = JSON.parse(execution.output ?? 'null');
    const startTime = execution.startDate?.toISOString();

    expect(output.root).toEqual({
      id: executionArn,
      name: 'probe-1',
      input,
      start: startTime,
      stateMachine: sfn.stateMachineArn('context-probe'),
      state: 'Capture',
      entered: expect.stringMatching(ISO_MILLIS),
      label: 'Capture@probe-1',
    });
    expect(output.root.entered >= (startTime ?? '')).toBe(true);
    expect(output.branch).toEqual([{ input, start: startTime, state: 'InBranch' }]);
  });

  it('States.JsonMerge neither changes the execution input nor the state input', async () => {
    const input = {
      defaults: { replicas: 1 },
      overrides: { replicas: 3 },
      extra: { strategy: 'rolling-update' },
    };
    const execution = await waitForExecutionEnd(sfn.client, await start('merge-configs', input));
    expect(JSON.parse(execution.output ?? 'null')).toEqual({
      defaults: { replicas: 1 },
      own: { replicas: 1 },
      merged: { merged: { replicas: 3 }, nested: { replicas: 3, strategy: 'rolling-update' } },
    });
  });

  it('reports neither error nor cause for a Fail state that names none, as AWS does', async () => {
    const execution = await waitForExecutionEnd(sfn.client, await start('bare-fail', {}));
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBeUndefined();
    expect(execution.cause).toBeUndefined();
  });

  it('answers unknown or malformed names with the named exceptions', async () => {
    const missingMachine = 'arn:aws:states:us-east-1:000000000000:stateMachine:nope';
    const missingExecution = 'arn:aws:states:us-east-1:000000000000:execution:pass-through:nope';
    await expect(
      sfn.client.send(new StartExecutionCommand({ stateMachineArn: missingMachine })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.client.send(new StartExecutionCommand({ stateMachineArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
    await expect(start('pass-through', {}, 'has space')).rejects.toBeInstanceOf(InvalidName);
    await expect(
      sfn.client.send(
        new StartExecutionCommand({
          stateMachineArn: sfn.stateMachineArn('pass-through'),
          input: '{not json',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(
      sfn.client.send(new DescribeExecutionCommand({ executionArn: missingExecution })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.client.send(new StopExecutionCommand({ executionArn: missingExecution })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.client.send(new GetExecutionHistoryCommand({ executionArn: missingExecution })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('names an execution started without a name with a UUID', async () => {
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('pass-through') }),
    );
    const execution = await waitForExecutionEnd(sfn.client, executionArn ?? '');
    expect(execution.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(execution).toMatchObject({ input: '{}', output: '{}', status: 'SUCCEEDED' });
  });

  it('tells a mangled token (InvalidToken) from an unknown one (TaskDoesNotExist)', async () => {
    const unknown = `AQ${'A'.repeat(128)}`;
    await expect(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: unknown, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(
      sfn.client.send(new SendTaskFailureCommand({ taskToken: unknown, error: 'E' })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(
      sfn.client.send(new SendTaskHeartbeatCommand({ taskToken: unknown })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: 'mangled', output: '{}' })),
    ).rejects.toBeInstanceOf(InvalidToken);
  });

  it('refuses task output that is not JSON, and a token used twice', async () => {
    const queueUrl = sqs.createQueue();
    const executionArn = await start('one-task', { queue_url: queueUrl });
    const { task_token: taskToken } = tokenMessage.parse(await receiveTask(sqs.client, queueUrl));

    await expect(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: 'not json' })),
    ).rejects.toBeInstanceOf(InvalidOutput);
    await sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: '"done"' }));
    await expect(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: '"again"' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    expect(await waitForExecutionEnd(sfn.client, executionArn)).toMatchObject({
      status: 'SUCCEEDED',
      output: '"done"',
    });
  });

  it('TimeoutSeconds fails a waiting task with States.Timeout, which States.TaskFailed does not catch', async () => {
    const queueUrl = sqs.createQueue();
    const executionArn = await start('timed-task', { queue_url: queueUrl });
    const { task_token: taskToken } = tokenMessage.parse(await receiveTask(sqs.client, queueUrl));

    const execution = await waitForExecutionEnd(sfn.client, executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(await statesEntered(sfn.client, executionArn)).toEqual(['Work', 'TimedOut']);
    const history = await executionHistory(sfn.client, executionArn);
    expect(history.find((event) => event.type === 'TaskTimedOut')?.taskTimedOutEventDetails?.error).toBe(
      'States.Timeout',
    );
    await expect(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('a failed Parallel branch retires the token of the branch still waiting', async () => {
    const queueUrl = sqs.createQueue();
    const executionArn = await start('fork-with-catch', { queue_url: queueUrl });
    const messages = (await receiveTasks(sqs.client, queueUrl, 2)).map((body) => tokenMessage.parse(body));
    const [first, second] = ['first', 'second'].map(
      (kind) => messages.find((message) => message.kind === kind)?.task_token ?? '',
    );

    await sfn.client.send(new SendTaskFailureCommand({ taskToken: first, error: 'Broken' }));
    const after = tokenMessage.parse(await receiveTask(sqs.client, queueUrl));
    expect(after.kind).toBe('after');
    expect((await sfn.client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    await expect(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: second, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);

    await sfn.client.send(
      new SendTaskSuccessCommand({ taskToken: after.task_token, output: '{"recovered":true}' }),
    );
    expect(await waitForExecutionEnd(sfn.client, executionArn)).toMatchObject({
      status: 'SUCCEEDED',
      output: '{"recovered":true}',
    });
  });

  it('reports an execution past its TimeoutSeconds as TIMED_OUT', async () => {
    const executionArn = await start('slow', {});
    const execution = await waitForExecutionEnd(sfn.client, executionArn);
    expect(execution.status).toBe('TIMED_OUT');
    const history = await executionHistory(sfn.client, executionArn);
    expect(history.at(-1)?.type).toBe('ExecutionTimedOut');
  });

  it('lists executions newest first, by status, in pages; pages history in both directions', async () => {
    const names = ['list-a', 'list-b', 'list-c'];
    for (const name of names) await waitForExecutionEnd(sfn.client, await start('pass-through', {}, name));
    const stateMachineArn = sfn.stateMachineArn('pass-through');

    const firstPage = await sfn.client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED', maxResults: 2 }),
    );
    expect(firstPage.executions?.map((execution) => execution.name)).toEqual(['list-c', 'list-b']);
    expect(firstPage.nextToken).toBeDefined();
    const secondPage = await sfn.client.send(
      new ListExecutionsCommand({
        stateMachineArn,
        statusFilter: 'SUCCEEDED',
        maxResults: 2,
        nextToken: firstPage.nextToken,
      }),
    );
    expect(secondPage.executions?.[0]?.name).toBe('list-a');
    const running = await sfn.client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions).toEqual([]);

    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:list-a`;
    const reversed = await sfn.client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }),
    );
    expect(reversed.events?.map((event) => event.type)).toEqual([
      'ExecutionSucceeded',
      'PassStateExited',
      'PassStateEntered',
      'ExecutionStarted',
    ]);
    expect(reversed.events?.map((event) => event.id)).toEqual([4, 3, 2, 1]);
    const paged = await sfn.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3 }));
    expect(paged.events).toHaveLength(3);
    expect(paged.events?.[0]?.timestamp).toBeInstanceOf(Date);
    expect(paged.nextToken).toBeDefined();
  });
});
