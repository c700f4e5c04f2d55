import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { useTestTable } from '../support/dynamodb';
import { useSqsLocal } from '../support/sqs';
import {
  executionHistory,
  statesEntered,
  useStepFunctionsLocal,
  waitForExecutionEnd,
} from '../support/stepfunctions';
import { receiveTask, receiveTasks } from '../support/task-agent';

// A hand-written miniature of the compiled workflows: one task record in DynamoDB, one
// agent round trip over SQS with the callback pattern, status written back either way.

const WAIT_FOR_AGENT = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
const UPDATE_ITEM = 'arn:aws:states:::dynamodb:updateItem';
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const taskMessage = z.object({
  task_id: z.string(),
  task_token: z.string(),
  execution_id: z.string(),
  state: z.string(),
});
const branchMessage = z.object({ kind: z.string(), task_token: z.string() });

function taskKey() {
  return { pk: { 'S.$': "States.Format('TASK#{}', $.task_id)" }, sk: { S: 'TASK' } };
}

function taskFlow(tableName: string, heartbeatSeconds: number, retry = false) {
  return {
    Comment: 'mark the task running, hand it to the agent, write back the outcome',
    StartAt: 'MarkRunning',
    States: {
      MarkRunning: {
        Type: 'Task',
        Resource: UPDATE_ITEM,
        Parameters: {
          TableName: tableName,
          Key: taskKey(),
          UpdateExpression: 'SET #status = :running, started_at = :now',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':running': { S: 'running' },
            ':pending': { S: 'pending' },
            ':now': { 'S.$': '$$.State.EnteredTime' },
          },
          ReturnValues: 'ALL_NEW',
        },
        ResultSelector: { 'status.$': '$.Attributes.status.S' },
        ResultPath: '$.marked',
        Catch: [
          {
            ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
            ResultPath: '$.error',
            Next: 'NotPending',
          },
        ],
        Next: 'RunTask',
      },
      NotPending: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      RunTask: {
        Type: 'Task',
        Resource: WAIT_FOR_AGENT,
        HeartbeatSeconds: heartbeatSeconds,
        Parameters: {
          'QueueUrl.$': '$.queue_url',
          MessageBody: {
            'task_id.$': '$.task_id',
            'task_token.$': '$$.Task.Token',
            'execution_id.$': '$$.Execution.Id',
            'state.$': '$$.State.Name',
          },
        },
        ResultPath: '$.result',
        ...(retry ? { Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 1 }] } : {}),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CheckCause' }],
        Next: 'MarkSucceeded',
      },
      MarkSucceeded: {
        Type: 'Task',
        Resource: UPDATE_ITEM,
        Parameters: {
          TableName: tableName,
          Key: taskKey(),
          UpdateExpression: 'SET #status = :success, #result = :result',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
          ExpressionAttributeValues: {
            ':success': { S: 'success' },
            ':result': { 'S.$': 'States.JsonToString($.result)' },
          },
        },
        ResultPath: null,
        End: true,
      },
      // Step Functions' own timeouts come without a Cause, as on AWS.
      CheckCause: {
        Type: 'Choice',
        Choices: [{ Not: { Variable: '$.error.Cause', IsPresent: true }, Next: 'AddCause' }],
        Default: 'MarkFailed',
      },
      AddCause: { Type: 'Pass', Result: 'no cause', ResultPath: '$.error.Cause', Next: 'MarkFailed' },
      MarkFailed: {
        Type: 'Task',
        Resource: UPDATE_ITEM,
        Parameters: {
          TableName: tableName,
          Key: taskKey(),
          UpdateExpression: 'SET #status = :failed, error_name = :error, error_cause = :cause',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':failed': { S: 'failed' },
            ':error': { 'S.$': '$.error.Error' },
            ':cause': { 'S.$': '$.error.Cause' },
          },
        },
        ResultPath: null,
        Next: 'TaskFailed',
      },
      TaskFailed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    },
  };
}

function waitingTask(name: string, messageBody: Record<string, string>) {
  return {
    Type: 'Task',
    Resource: WAIT_FOR_AGENT,
    HeartbeatSeconds: 10,
    Parameters: {
      'QueueUrl.$': '$.queue_url',
      MessageBody: { ...messageBody, 'task_token.$': '$$.Task.Token' },
    },
    End: true,
    Comment: name,
  };
}

const parallelFlow = {
  StartAt: 'BuildAndTest',
  States: {
    BuildAndTest: {
      Type: 'Parallel',
      Branches: ['build', 'test'].map((kind) => ({
        StartAt: `Run_${kind}`,
        States: { [`Run_${kind}`]: waitingTask(kind, { kind }) },
      })),
      End: true,
    },
  },
};

const mapFlow = {
  StartAt: 'DeployEach',
  States: {
    DeployEach: {
      Type: 'Map',
      ItemsPath: '$.applications',
      ItemSelector: { 'queue_url.$': '$.queue_url', 'application.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Deploy',
        States: { Deploy: waitingTask('deploy', { 'kind.$': '$.application' }) },
      },
      End: true,
    },
  },
};

function itemRoundTrip(tableName: string) {
  return {
    StartAt: 'Put',
    States: {
      Put: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: {
          TableName: tableName,
          Item: {
            pk: { 'S.$': '$.pk' },
            sk: { S: 'ITEM' },
            count: { N: '3' },
            tags: { SS: ['a', 'b'] },
            blob: { B: 'aGVsbG8=' },
          },
        },
        ResultPath: '$.put',
        Next: 'Get',
      },
      Get: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:getItem',
        Parameters: { TableName: tableName, Key: { pk: { 'S.$': '$.pk' }, sk: { S: 'ITEM' } } },
        ResultPath: '$.got',
        Next: 'Delete',
      },
      Delete: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:deleteItem',
        Parameters: {
          TableName: tableName,
          Key: { pk: { 'S.$': '$.pk' }, sk: { S: 'ITEM' } },
          ReturnValues: 'ALL_OLD',
        },
        ResultSelector: { 'deleted.$': '$.Attributes.pk.S' },
        ResultPath: '$.deleted',
        End: true,
      },
    },
  };
}

function invalidUpdate(tableName: string) {
  return {
    StartAt: 'Update',
    States: {
      Update: {
        Type: 'Task',
        Resource: UPDATE_ITEM,
        Parameters: {
          TableName: tableName,
          Key: { pk: { S: 'TASK#none' }, sk: { S: 'TASK' } },
          UpdateExpression: 'SET #status = :undefined_value',
          ExpressionAttributeNames: { '#status': 'status' },
        },
        End: true,
      },
    },
  };
}

describe('the Step Functions stand-in running task states against DynamoDB Local and fauxqs', () => {
  const table = useTestTable();
  const sqs = useSqsLocal();
  const sfn = useStepFunctionsLocal(() => ({
    dynamoDbEndpoint: table.endpoint,
    sqsEndpoint: sqs.local.endpoint,
    stateMachines: [
      { name: 'task-flow', definition: JSON.stringify(taskFlow(table.tableName, 10)) },
      { name: 'task-flow-short-heartbeat', definition: JSON.stringify(taskFlow(table.tableName, 1)) },
      { name: 'task-flow-retrying', definition: JSON.stringify(taskFlow(table.tableName, 10, true)) },
      { name: 'two-tasks', definition: JSON.stringify(parallelFlow) },
      { name: 'task-per-application', definition: JSON.stringify(mapFlow) },
      { name: 'item-round-trip', definition: JSON.stringify(itemRoundTrip(table.tableName)) },
      { name: 'invalid-update', definition: JSON.stringify(invalidUpdate(table.tableName)) },
    ],
  }));

  async function pendingTask(status = 'pending') {
    const taskId = randomUUID();
    await table.documentClient.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: `TASK#${taskId}`, sk: 'TASK', status } }),
    );
    return { task_id: taskId, queue_url: sqs.createQueue() };
  }

  async function taskRecord(taskId: string) {
    const { Item } = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `TASK#${taskId}`, sk: 'TASK' } }),
    );
    return Item;
  }

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

  const succeed = (taskToken: string, output: unknown) =>
    sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));

  it('success path: marks the task running, the agent answers, the record and the execution succeed', async () => {
    const input = await pendingTask();
    const executionArn = await start('task-flow', input);

    const message = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));
    expect(message).toMatchObject({ task_id: input.task_id, execution_id: executionArn, state: 'RunTask' });
    const running = await taskRecord(input.task_id);
    expect(running?.status).toBe('running');
    expect(running?.started_at).toMatch(ISO_MILLIS);

    await succeed(message.task_token, { image: 'org/app:v1.0.0' });
    const execution = await waitForExecutionEnd(sfn.client, executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? 'null')).toEqual({
      ...input,
      marked: { status: 'running' },
      result: { image: 'org/app:v1.0.0' },
    });
    expect(await taskRecord(input.task_id)).toMatchObject({
      status: 'success',
      result: JSON.stringify({ image: 'org/app:v1.0.0' }),
    });
    expect(await statesEntered(sfn.client, executionArn)).toEqual([
      'MarkRunning',
      'RunTask',
      'MarkSucceeded',
    ]);
    const types = (await executionHistory(sfn.client, executionArn)).map((event) => event.type);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('agent failure: SendTaskFailure takes the Catch, the record and the execution carry error and cause', async () => {
    const input = await pendingTask();
    const executionArn = await start('task-flow', input);
    const message = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));

    await sfn.client.send(
      new SendTaskFailureCommand({
        taskToken: message.task_token,
        error: 'BuildFailed',
        cause: 'docker build exited 2',
      }),
    );
    const execution = await waitForExecutionEnd(sfn.client, executionArn);

    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'BuildFailed',
      cause: 'docker build exited 2',
    });
    expect(await taskRecord(input.task_id)).toMatchObject({
      status: 'failed',
      error_name: 'BuildFailed',
      error_cause: 'docker build exited 2',
    });
    expect(await statesEntered(sfn.client, executionArn)).toEqual([
      'MarkRunning',
      'RunTask',
      'CheckCause',
      'MarkFailed',
      'TaskFailed',
    ]);
    const failed = (await executionHistory(sfn.client, executionArn)).find(
      (event) => event.type === 'TaskFailed',
    );
    expect(failed?.taskFailedEventDetails).toMatchObject({
      resourceType: 'sqs',
      resource: 'sendMessage.waitForTaskToken',
      error: 'BuildFailed',
      cause: 'docker build exited 2',
    });
  });

  it('heartbeat timeout: a silent agent fails the state with States.HeartbeatTimeout and its token expires', async () => {
    const input = await pendingTask();
    const executionArn = await start('task-flow-short-heartbeat', input);
    const message = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));

    const execution = await waitForExecutionEnd(sfn.client, executionArn);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    expect(await taskRecord(input.task_id)).toMatchObject({
      status: 'failed',
      error_name: 'States.HeartbeatTimeout',
    });
    const history = await executionHistory(sfn.client, executionArn);
    expect(history.find((event) => event.type === 'TaskTimedOut')?.taskTimedOutEventDetails?.error).toBe(
      'States.HeartbeatTimeout',
    );
    await expect(succeed(message.task_token, { too: 'late' })).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('heartbeats keep a task alive past HeartbeatSeconds', async () => {
    const input = await pendingTask();
    const executionArn = await start('task-flow-short-heartbeat', input);
    const message = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));

    for (let beat = 0; beat < 4; beat += 1) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await sfn.client.send(new SendTaskHeartbeatCommand({ taskToken: message.task_token }));
    }
    await succeed(message.task_token, { ok: true });

    expect((await waitForExecutionEnd(sfn.client, executionArn)).status).toBe('SUCCEEDED');
  });

  it('a Retry on the waiting state sends a new message with a new token', async () => {
    const input = await pendingTask();
    const executionArn = await start('task-flow-retrying', input);
    const first = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));
    await sfn.client.send(new SendTaskFailureCommand({ taskToken: first.task_token, error: 'Transient' }));

    const second = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));
    expect(second.task_token).not.toBe(first.task_token);
    await expect(succeed(first.task_token, {})).rejects.toBeInstanceOf(TaskTimedOut);
    await succeed(second.task_token, { attempt: 2 });

    const execution = await waitForExecutionEnd(sfn.client, executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? 'null').result).toEqual({ attempt: 2 });
  });

  it('two tasks waiting in a Parallel get distinct tokens and complete independently', async () => {
    const queueUrl = sqs.createQueue();
    const executionArn = await start('two-tasks', { queue_url: queueUrl });
    const messages = (await receiveTasks(sqs.client, queueUrl, 2)).map((body) => branchMessage.parse(body));
    const byKind = new Map(messages.map((message) => [message.kind, message.task_token]));
    const buildToken = byKind.get('build');
    const testToken = byKind.get('test');
    if (buildToken === undefined || testToken === undefined)
      throw new Error('expected one build and one test task');
    expect(buildToken).not.toBe(testToken);

    await succeed(testToken, { tests: 'passed' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const halfway = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(halfway.status).toBe('RUNNING');

    await succeed(buildToken, { image: 'org/app:v2' });
    const execution = await waitForExecutionEnd(sfn.client, executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? 'null')).toEqual([{ image: 'org/app:v2' }, { tests: 'passed' }]);
    expect((await statesEntered(sfn.client, executionArn)).sort()).toEqual([
      'BuildAndTest',
      'Run_build',
      'Run_test',
    ]);
  });

  it('a Map runs one waiting task per item, each with its own token', async () => {
    const queueUrl = sqs.createQueue();
    const executionArn = await start('task-per-application', {
      queue_url: queueUrl,
      applications: ['api', 'web'],
    });
    const messages = (await receiveTasks(sqs.client, queueUrl, 2)).map((body) => branchMessage.parse(body));
    expect(messages.map((message) => message.kind).sort()).toEqual(['api', 'web']);
    expect(new Set(messages.map((message) => message.task_token)).size).toBe(2);

    for (const message of messages) await succeed(message.task_token, { deployed: message.kind });

    const execution = await waitForExecutionEnd(sfn.client, executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? 'null')).toEqual([{ deployed: 'api' }, { deployed: 'web' }]);
  });

  it('StartExecution is idempotent by name while the execution runs, and refuses a different input', async () => {
    const input = await pendingTask();
    const name = `deployment-${randomUUID()}`;
    const first = await start('task-flow', input, name);
    const again = await start('task-flow', input, name);
    expect(again).toBe(first);

    await expect(start('task-flow', { ...input, extra: true }, name)).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    const { executions = [] } = await sfn.client.send(
      new ListExecutionsCommand({ stateMachineArn: sfn.stateMachineArn('task-flow') }),
    );
    expect(executions.filter((execution) => execution.name === name)).toHaveLength(1);

    const message = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));
    await succeed(message.task_token, {});
    expect((await waitForExecutionEnd(sfn.client, first)).status).toBe('SUCCEEDED');
    // One run only: a second run would have queued a second message (and failed its condition).
    const queueName = input.queue_url.split('/').pop() ?? '';
    expect(sqs.local.server.inspectQueue(queueName)?.messages.ready).toHaveLength(0);
    // As on AWS, a name whose execution has ended cannot be started again.
    await expect(start('task-flow', input, name)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('StopExecution aborts a waiting execution: no further state runs and its token times out', async () => {
    const input = await pendingTask();
    const executionArn = await start('task-flow', input);
    const message = taskMessage.parse(await receiveTask(sqs.client, input.queue_url));

    await sfn.client.send(
      new StopExecutionCommand({
        executionArn,
        error: 'DeploymentCancelled',
        cause: 'Deployment cancelled by user',
      }),
    );
    const execution = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution).toMatchObject({
      status: 'ABORTED',
      error: 'DeploymentCancelled',
      cause: 'Deployment cancelled by user',
    });
    expect(execution.stopDate).toBeInstanceOf(Date);

    await expect(succeed(message.task_token, {})).rejects.toBeInstanceOf(TaskTimedOut);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Neither MarkSucceeded nor the Catch's MarkFailed ran.
    expect((await taskRecord(input.task_id))?.status).toBe('running');
    expect(await statesEntered(sfn.client, executionArn)).toEqual(['MarkRunning', 'RunTask']);
    const history = await executionHistory(sfn.client, executionArn);
    expect(history.at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'DeploymentCancelled', cause: 'Deployment cancelled by user' },
    });
  });

  it('a failed ConditionExpression is caught as DynamoDB.ConditionalCheckFailedException', async () => {
    const input = await pendingTask('running');
    const executionArn = await start('task-flow', input);

    const execution = await waitForExecutionEnd(sfn.client, executionArn);

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(execution.cause).toContain('The conditional request failed');
    expect(await statesEntered(sfn.client, executionArn)).toEqual(['MarkRunning', 'NotPending']);
    const queueName = input.queue_url.split('/').pop() ?? '';
    expect(sqs.local.server.inspectQueue(queueName)?.messages.ready).toHaveLength(0);
  });

  it('putItem, getItem and deleteItem return what Step Functions returns', async () => {
    const pk = `ITEM#${randomUUID()}`;
    const executionArn = await start('item-round-trip', { pk });

    const execution = await waitForExecutionEnd(sfn.client, executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output ?? 'null');
    expect(output.put).toMatchObject({
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: expect.any(String) },
    });
    // Attribute values in DynamoDB's JSON shape, binary as base64 both ways, as on AWS.
    expect(output.got.Item).toEqual({
      pk: { S: pk },
      sk: { S: 'ITEM' },
      count: { N: '3' },
      tags: { SS: expect.arrayContaining(['a', 'b']) },
      blob: { B: 'aGVsbG8=' },
    });
    expect(output.deleted).toEqual({ deleted: pk });
  });

  it('DynamoDB errors without a modeled exception surface as DynamoDB.AmazonDynamoDBException', async () => {
    const execution = await waitForExecutionEnd(sfn.client, await start('invalid-update', {}));

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('DynamoDB.AmazonDynamoDBException');
    expect(execution.cause).toMatch(/:undefined_value.*\(Service: DynamoDb, Status Code: 400, Request ID: /);
  });
});
