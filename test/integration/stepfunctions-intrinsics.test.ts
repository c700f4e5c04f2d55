import { randomUUID } from 'node:crypto';
import { SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { patchInterpreterSource } from '../../local/stepfunctions/interpreter';
import { useTestTable } from '../support/dynamodb';
import { useSqsLocal } from '../support/sqs';
import { useStepFunctionsLocal, waitForExecutionEnd } from '../support/stepfunctions';
import { receiveTask } from '../support/task-agent';

/**
 * Intrinsic functions in the stand-in behave as on AWS: escapes belong to string literals,
 * results are left as computed. aws-local-stepfunctions 3.0.0 strips every backslash from
 * intrinsic results instead (test/unit/workflow's `known interpreter quirk`), which broke
 * States.JsonToString of any text with a quote, backslash or newline; the stand-in loads it
 * patched (local/stepfunctions/interpreter.ts).
 */

const awkward = {
  quote: 'said "hi"',
  backslash: 'C:\\build\\out \\"not an escape\\"',
  newline: 'line 1\nline 2\ttabbed',
  braces: '{} and {"json": true}',
};

function intrinsicsFlow(tableName: string) {
  return {
    StartAt: 'Wait',
    States: {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: { 'QueueUrl.$': '$.queue_url', MessageBody: { 'task_token.$': '$$.Task.Token' } },
        ResultPath: '$.output',
        Next: 'Store',
      },
      Store: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: {
          TableName: tableName,
          Item: {
            pk: { 'S.$': "States.Format('ITEM#{}', $.id)" },
            sk: { S: 'ITEM' },
            result: { 'S.$': 'States.JsonToString($.output)' },
          },
        },
        ResultPath: null,
        Next: 'Compute',
      },
      Compute: {
        Type: 'Pass',
        Parameters: {
          'json.$': 'States.JsonToString($.output)',
          'round_trip.$': 'States.StringToJson(States.JsonToString($.output))',
          'format.$': "States.Format('{} | {} | \\{\\} \\'q\\'', $.output.backslash, $.output.quote)",
          'item.$': 'States.ArrayGetItem(States.Array($.output.backslash, $.output.newline), 0)',
          'nested.$': "States.Format('({})', States.Format('a,b {}', $.output.backslash))",
          'split.$': "States.ArrayGetItem(States.StringSplit('x.y', '.'), 1)",
        },
        End: true,
      },
    },
  };
}

const output = z.object({
  json: z.string(),
  round_trip: z.unknown(),
  format: z.string(),
  item: z.string(),
  nested: z.string(),
  split: z.string(),
});

describe('intrinsic functions in the Step Functions stand-in', () => {
  const table = useTestTable();
  const sqs = useSqsLocal();
  const sfn = useStepFunctionsLocal(() => ({
    dynamoDbEndpoint: table.endpoint,
    sqsEndpoint: sqs.local.endpoint,
    stateMachines: [{ name: 'intrinsics', definition: JSON.stringify(intrinsicsFlow(table.tableName)) }],
  }));

  it('keep quotes, backslashes and newlines of the data, and unescape only literals', async () => {
    const id = randomUUID();
    const queueUrl = sqs.createQueue();
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({
        stateMachineArn: sfn.stateMachineArn('intrinsics'),
        input: JSON.stringify({ id, queue_url: queueUrl }),
      }),
    );
    if (executionArn === undefined) throw new Error('no executionArn');
    const { task_token: taskToken } = z
      .object({ task_token: z.string() })
      .parse(await receiveTask(sqs.client, queueUrl));
    await sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(awkward) }));

    const execution = await waitForExecutionEnd(sfn.client, executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    const { Item } = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `ITEM#${id}`, sk: 'ITEM' } }),
    );
    expect(Item?.result).toBe(JSON.stringify(awkward));

    expect(output.parse(JSON.parse(execution.output ?? 'null'))).toEqual({
      json: JSON.stringify(awkward),
      round_trip: awkward,
      format: `${awkward.backslash} | ${awkward.quote} | {} 'q'`,
      item: awkward.backslash,
      nested: `(a,b ${awkward.backslash})`,
      split: 'y',
    });
  });

  it('refuses to start on an interpreter build the patch does not fit', () => {
    expect(() => patchInterpreterSource('function unrelated() {}', 'main.node.cjs')).toThrow(
      /patch 'intrinsic argument tokenizer' does not match main\.node\.cjs exactly once/,
    );
  });
});
