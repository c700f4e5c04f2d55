import { randomUUID } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { useTestTable } from '../support/dynamodb';
import { useSqsLocal } from '../support/sqs';
import { statesEntered, useStepFunctionsLocal, waitForExecutionEnd } from '../support/stepfunctions';

// The stand-in's AWS SDK integration for DynamoDB transactions, against DynamoDB Local, and
// its enforcement of Step Functions' 256 KiB state limit.

const TRANSACT = 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems';

function transaction(tableName: string) {
  const update = (pkPath: string) => ({
    Update: {
      TableName: tableName,
      Key: { pk: { 'S.$': pkPath }, sk: { S: 'ITEM' } },
      UpdateExpression: 'SET #status = :done ADD #count :one',
      ConditionExpression: '#status = :open',
      ExpressionAttributeNames: { '#status': 'status', '#count': 'count' },
      ExpressionAttributeValues: { ':done': { S: 'done' }, ':open': { S: 'open' }, ':one': { N: '1' } },
    },
  });
  return {
    StartAt: 'Write',
    States: {
      Write: {
        Type: 'Task',
        Resource: TRANSACT,
        Parameters: { TransactItems: [update('$.first'), update('$.second')] },
        ResultPath: '$.written',
        Catch: [
          {
            ErrorEquals: ['DynamoDb.TransactionCanceledException'],
            ResultPath: '$.error',
            Next: 'Cancelled',
          },
        ],
        End: true,
      },
      Cancelled: { Type: 'Pass', OutputPath: '$.error', End: true },
    },
  };
}

/** A state whose output is the input's text twice over: over the limit for a 130 KiB text. */
function doubling(tableName: string, catchers: readonly string[]) {
  return {
    StartAt: 'Double',
    States: {
      Double: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:dynamodb:getItem',
        Parameters: { TableName: tableName, Key: { pk: { S: 'NOTHING' }, sk: { S: 'NOTHING' } } },
        ResultSelector: { 'a.$': '$$.Execution.Input.text', 'b.$': '$$.Execution.Input.text' },
        ResultPath: '$.copies',
        ...(catchers.length > 0
          ? {
              Catch: catchers.map((error) => ({
                ErrorEquals: [error],
                ResultPath: '$.error',
                Next: 'Caught',
              })),
            }
          : {}),
        End: true,
      },
      Caught: { Type: 'Pass', Result: 'caught', End: true },
    },
  };
}

describe('the stand-in: aws-sdk:dynamodb:transactWriteItems and the state limit', () => {
  const table = useTestTable();
  const sqs = useSqsLocal();
  const sfn = useStepFunctionsLocal(() => ({
    dynamoDbEndpoint: table.endpoint,
    sqsEndpoint: sqs.local.endpoint,
    stateMachines: [
      { name: 'transaction', definition: JSON.stringify(transaction(table.tableName)) },
      {
        name: 'double-uncaught-by-all',
        definition: JSON.stringify(doubling(table.tableName, ['States.ALL'])),
      },
      {
        name: 'double-caught-by-name',
        definition: JSON.stringify(doubling(table.tableName, ['States.DataLimitExceeded'])),
      },
    ],
  }));

  async function item(status: string) {
    const pk = `ITEM#${randomUUID()}`;
    await table.documentClient.send(
      new PutCommand({ TableName: table.tableName, Item: { pk, sk: 'ITEM', status } }),
    );
    return pk;
  }

  const read = async (pk: string) =>
    (await table.documentClient.send(new GetCommand({ TableName: table.tableName, Key: { pk, sk: 'ITEM' } })))
      .Item;

  async function run(name: string, input: unknown) {
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn(name), input: JSON.stringify(input) }),
    );
    if (executionArn === undefined) throw new Error('no execution ARN');
    return { executionArn, execution: await waitForExecutionEnd(sfn.client, executionArn) };
  }

  it('writes every item and answers the response members alone', async () => {
    const [first, second] = [await item('open'), await item('open')];
    const { execution } = await run('transaction', { first, second });

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '{}').written).toEqual({});
    expect(await read(first)).toMatchObject({ status: 'done', count: 1 });
    expect(await read(second)).toMatchObject({ status: 'done', count: 1 });
  });

  it('writes nothing when a condition fails, reporting the reasons in item order as AWS does', async () => {
    const [first, second] = [await item('open'), await item('closed')];
    const { execution } = await run('transaction', { first, second });

    expect(execution.status).toBe('SUCCEEDED');
    const error = JSON.parse(execution.output ?? '{}') as { Error: string; Cause: string };
    expect(error.Error).toBe('DynamoDb.TransactionCanceledException');
    expect(error.Cause).toMatch(
      /^Transaction cancelled, please refer cancellation reasons for specific reasons \[None, ConditionalCheckFailed\] \(Service: DynamoDb, Status Code: 400, Request ID: /,
    );
    expect(await read(first)).toMatchObject({ status: 'open' });
    expect(await read(first)).not.toHaveProperty('count');
  });

  const text = 'x'.repeat(130 * 1024);

  it('fails a state whose output passes 256 KiB with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    const { executionArn, execution } = await run('double-uncaught-by-all', { text });

    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(await statesEntered(sfn.client, executionArn)).toEqual(['Double']);
  });

  it('lets a catcher that names States.DataLimitExceeded catch it', async () => {
    const { execution } = await run('double-caught-by-name', { text });

    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: '"caught"' });
  });
});
