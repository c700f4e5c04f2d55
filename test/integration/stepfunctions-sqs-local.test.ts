import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { useSqsLocal } from '../support/sqs';

describe('the local SQS (fauxqs) with the task queue and its dead-letter queue', () => {
  const sqs = useSqsLocal();

  it('creates the task queue as the stack does: 15-minute visibility, DLQ after 5 receives', () => {
    const attributes = sqs.local.server.inspectQueue('deploy-manager-tasks')?.attributes;
    expect(attributes?.VisibilityTimeout).toBe('900');
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: sqs.local.deadLetterQueueArn,
      maxReceiveCount: 5,
    });
    expect(sqs.local.deadLetterQueueUrl).toMatch(/\/000000000000\/deploy-manager-tasks-dlq$/);
  });

  it('moves a message received more than maxReceiveCount times to the DLQ', async () => {
    const { taskQueueUrl, deadLetterQueueUrl } = sqs.local;
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: taskQueueUrl, MessageBody: '{"task_id":"task_1"}' }),
    );

    // An agent that takes the task and never deletes it: VisibilityTimeout 0 makes it
    // visible again at once, so each receive counts.
    for (let receive = 1; receive <= 5; receive += 1) {
      const { Messages = [] } = await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: taskQueueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1 }),
      );
      expect(Messages).toHaveLength(1);
    }
    const sixth = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: taskQueueUrl, VisibilityTimeout: 0 }),
    );
    expect(sixth.Messages ?? []).toHaveLength(0);

    const { Messages: dead = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, WaitTimeSeconds: 1 }),
    );
    expect(dead.map((message) => message.Body)).toEqual(['{"task_id":"task_1"}']);
  });
});
