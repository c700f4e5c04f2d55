import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * The scripted deploy agent's intake: long-polls `count` messages off a queue, deletes
 * them (an agent acknowledges what it took), and returns their bodies parsed as JSON.
 */
export async function receiveTasks(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs = 5_000,
): Promise<unknown[]> {
  const bodies: unknown[] = [];
  const deadline = Date.now() + timeoutMs;
  while (bodies.length < count) {
    if (Date.now() > deadline) throw new Error(`received ${bodies.length} of ${count} task messages`);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: count - bodies.length,
        WaitTimeSeconds: 1,
      }),
    );
    for (const message of Messages) {
      bodies.push(JSON.parse(message.Body ?? 'null'));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return bodies;
}

export async function receiveTask(sqs: SQSClient, queueUrl: string, timeoutMs = 5_000): Promise<unknown> {
  const [body] = await receiveTasks(sqs, queueUrl, 1, timeoutMs);
  return body;
}
