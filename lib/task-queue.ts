import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TASK_QUEUE } from '../lambdas/agent-protocol/task-queue';

/**
 * How long a received task message stays hidden from other agents. Whether a running task
 * is alive is Step Functions' business (heartbeats: at most 10 minutes apart in the
 * templates); the queue only has to keep a second agent off a message while the first one
 * works. An agent extends the message's visibility (ChangeMessageVisibility, which its
 * policy allows) when it heartbeats and deletes the message once it has answered. 15
 * minutes outlasts every step's heartbeat interval, so an agent extending it on each
 * heartbeat never loses its message, while a crashed agent's message (or one no agent can
 * parse) comes back within 15 minutes, and after MAX_RECEIVE_COUNT receives goes to the DLQ.
 */
export const TASK_VISIBILITY_TIMEOUT = Duration.seconds(TASK_QUEUE.visibilityTimeoutSeconds);

/** Receives before a message goes to the DLQ: enough to ride out agent crashes and restarts. */
export const MAX_RECEIVE_COUNT = TASK_QUEUE.maxReceiveCount;

export class TaskQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // SQS-managed encryption: at rest without a KMS key to grant to Step Functions and to
    // every agent (messages carry no secrets: environment credentials never enter them).
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: TASK_VISIBILITY_TIMEOUT,
      // Longer than any step may run (an hour unless a step says otherwise): an older message's
      // task has timed out and its token is dead.
      retentionPeriod: Duration.days(4),
      // Agents long-poll; a 20 s wait makes their empty receives cheap.
      receiveMessageWaitTime: Duration.seconds(TASK_QUEUE.receiveWaitSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
