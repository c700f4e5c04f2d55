/**
 * The task queue as agents meet it, the same on AWS (lib/task-queue.ts) and under `npm start`
 * (local/sqs-local.ts).
 */
export const TASK_QUEUE = {
  /**
   * Seconds a received message stays hidden from other agents. Extend it
   * (ChangeMessageVisibility) each time you heartbeat, and delete the message once you have
   * answered; a crashed agent's message comes back after this long.
   */
  visibilityTimeoutSeconds: 900,
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: 5,
  /** The longest long-poll SQS allows; use it as `WaitTimeSeconds`. */
  receiveWaitSeconds: 20,
} as const;
