import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { TASK_QUEUE } from '../lambdas/agent-protocol/task-queue';
import { LOCAL_REGION } from './local-aws';

export interface SqsLocalOptions {
  /** Port to listen on; 0 picks a free one (see `endpoint`). */
  readonly port: number;
  readonly region?: string;
  readonly taskQueueName?: string;
  readonly deadLetterQueueName?: string;
  /** Receives before SQS moves a message to the DLQ; as in the stack unless a test says otherwise. */
  readonly maxReceiveCount?: number;
  /** Seconds a received task stays invisible to other agents; as in the stack unless a test says otherwise. */
  readonly visibilityTimeoutSeconds?: number;
}

export interface SqsLocal {
  /** Give it to `new SQSClient({ endpoint })`. */
  readonly endpoint: string;
  readonly taskQueueUrl: string;
  readonly taskQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  /** The embedded fauxqs, for extra queues (`createQueue`) and inspection (`inspectQueue`). */
  readonly server: FauxqsServer;
  stop(): Promise<void>;
}

export const DEFAULT_TASK_QUEUE_NAME = 'deploy-manager-tasks';

/**
 * Starts fauxqs (an in-process SQS emulator speaking the real protocol) with the task
 * queue the state machines push work to, and its dead-letter queue: a task an agent keeps
 * failing to process lands there after `maxReceiveCount` receives.
 */
export async function startSqsLocal(options: SqsLocalOptions): Promise<SqsLocal> {
  const region = options.region ?? LOCAL_REGION;
  const taskQueueName = options.taskQueueName ?? DEFAULT_TASK_QUEUE_NAME;
  const deadLetterQueueName = options.deadLetterQueueName ?? `${taskQueueName}-dlq`;
  const server = await startFauxqs({ port: options.port, logger: false, defaultRegion: region });
  try {
    const deadLetterQueue = server.createQueue(deadLetterQueueName, { region });
    const taskQueue = server.createQueue(taskQueueName, {
      region,
      attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueue.queueArn,
          maxReceiveCount: options.maxReceiveCount ?? TASK_QUEUE.maxReceiveCount,
        }),
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? TASK_QUEUE.visibilityTimeoutSeconds),
      },
    });
    return {
      endpoint: server.address,
      taskQueueUrl: taskQueue.queueUrl,
      taskQueueArn: taskQueue.queueArn,
      deadLetterQueueUrl: deadLetterQueue.queueUrl,
      deadLetterQueueArn: deadLetterQueue.queueArn,
      server,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
