import { performance } from 'node:perf_hooks';
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  heartbeatIntervalMs,
  parseTaskMessage,
  TASK_QUEUE,
  type TaskMessageV1,
  taskFailureRequest,
  taskHeartbeatRequest,
  taskSuccessRequest,
} from '../../lambdas/agent-protocol';
import type { TaskAnswer } from './task-answer';

/**
 * The task-queue side of every deploy agent (docs/agent-protocol.md), shared by the real
 * agent and the simulated one of `npm start`: long-poll, at most `concurrency` tasks at a
 * time, a heartbeat + visibility timer per message (cleared in `finally`), answer with the
 * task token, delete the message only once its task is answered. The handler decides what
 * the work is and whether a message was seen before.
 */

/** What to do with a parsed message before working on it. */
export type TaskClaim =
  | { readonly kind: 'run' }
  /** answered before (a redelivery): send this answer again, then delete */
  | { readonly kind: 'resend'; readonly answer: TaskAnswer }
  /** answered before and nothing to send: delete */
  | { readonly kind: 'drop' }
  /** being worked on here already: leave the message alone */
  | { readonly kind: 'leave' };

/**
 * Moments of one task on `performance.now()`'s clock, for the timing fields of its
 * "task succeeded" / "task failed" line (docs/agent.md): the consumer marks when
 * ReceiveMessage returned the message; a handler marks its executor's start and end.
 */
export interface TaskMarks {
  readonly received: number;
  executorStarted?: number;
  executorEnded?: number;
}

export interface TaskHandler {
  claim(message: TaskMessageV1): TaskClaim | Promise<TaskClaim>;
  /**
   * Does the work. `signal` is aborted with a TaskStopped reason when the token is gone or
   * the agent stops past its grace. Returns the answer, or undefined to leave the task
   * unanswered (the message comes back after its visibility timeout).
   */
  run(message: TaskMessageV1, signal: AbortSignal, marks: TaskMarks): Promise<TaskAnswer | undefined>;
  /** before the answer is sent (the journal records it here) */
  answering?(message: TaskMessageV1, answer: TaskAnswer): Promise<void>;
  /** once the answer was sent, or the token turned out to be gone */
  settled?(message: TaskMessageV1, outcome: 'answered' | 'gone' | 'unanswered'): void | Promise<void>;
}

export type ConsumerState = 'idle' | 'running' | 'draining' | 'stopped';

/** Why a task's signal was aborted. */
export class TaskStopped extends Error {
  override readonly name = 'TaskStopped';
  constructor(
    readonly why: 'token-gone' | 'shutdown',
    message: string,
  ) {
    super(message);
  }
}

export type ConsumerLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface TaskConsumerOptions {
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
  readonly queueUrl: string;
  readonly handler: TaskHandler;
  readonly concurrency: number;
  /** long-poll wait, 20 s unless a test says otherwise */
  readonly waitTimeSeconds?: number;
  readonly log?: ConsumerLog;
}

export interface ConsumerStats {
  readonly received: number;
  readonly succeeded: number;
  readonly failed: number;
  /** messages that are not task messages: left for the queue's dead-letter redrive */
  readonly invalid: number;
  /** tasks whose token was no longer wanted (cancelled, timed out, answered already) */
  readonly abandoned: number;
  readonly inFlight: number;
}

/** Step Functions' answers for a token nobody waits for any more. */
export const GONE_TOKEN_ERRORS: ReadonlySet<string> = new Set([
  'TaskTimedOut',
  'TaskDoesNotExist',
  'InvalidToken',
]);
export const isGoneToken = (error: unknown): boolean =>
  error instanceof Error && GONE_TOKEN_ERRORS.has(error.name);
const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
export const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Visibility given with each heartbeat: three beats, so two may be lost. */
const roundMs = (value: number) => Math.round(value * 100) / 100;

/**
 * The timing fields of an answered task's log line, in milliseconds: the agent's overhead
 * before and after the executor, so operators can tell a slow agent from a slow step.
 */
export function taskTimingFields(
  marks: TaskMarks,
  answered: number,
  deleted: number,
): Record<string, number> {
  const { received, executorStarted, executorEnded } = marks;
  return {
    receive_to_delete_ms: roundMs(deleted - received),
    ...(executorStarted === undefined || executorEnded === undefined
      ? {}
      : {
          receive_to_executor_ms: roundMs(executorStarted - received),
          executor_ms: roundMs(executorEnded - executorStarted),
          executor_to_answer_ms: roundMs(answered - executorEnded),
          executor_to_delete_ms: roundMs(deleted - executorEnded),
        }),
  };
}

export const visibilitySeconds = (message: TaskMessageV1): number =>
  Math.min(43_200, Math.max(30, Math.ceil((heartbeatIntervalMs(message) * 3) / 1000)));

interface Running {
  readonly message: TaskMessageV1;
  readonly work: AbortController;
}

export class TaskConsumer {
  readonly #options: TaskConsumerOptions;
  #state: ConsumerState = 'idle';
  /** cut the long poll (a hard stop); a drain lets it return */
  #pollAbort = new AbortController();
  /** every SDK call of this run; aborted when the consumer has fully stopped or is killed */
  #runAbort = new AbortController();
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #running = new Set<Running>();
  #slotFreed: (() => void) | undefined;
  #stats = { received: 0, succeeded: 0, failed: 0, invalid: 0, abandoned: 0 };

  constructor(options: TaskConsumerOptions) {
    this.#options = options;
  }

  get state(): ConsumerState {
    return this.#state;
  }

  stats(): ConsumerStats {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  start(): void {
    if (this.#state === 'running' || this.#state === 'draining') return;
    this.#state = 'running';
    this.#pollAbort = new AbortController();
    this.#runAbort = new AbortController();
    this.#loop = this.#poll();
  }

  /**
   * Stops receiving, lets running tasks finish for `graceMs` (heartbeats go on), then aborts
   * their signals (reason: shutdown) and waits for them to settle. `cutPoll` aborts the
   * current long poll instead of letting it return (a message SQS hands to the cut
   * connection stays hidden for its visibility timeout).
   */
  async stop(options: { graceMs: number; cutPoll?: boolean; reason?: string }): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'draining') return;
    this.#state = 'draining';
    if (options.cutPoll) this.#pollAbort.abort();
    this.#wake();
    const settled = Promise.allSettled([...this.#inFlight]);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      graceTimer = setTimeout(() => resolve('grace-over'), options.graceMs);
    });
    if ((await Promise.race([settled, graceOver])) === 'grace-over') this.abortAll(options.reason);
    clearTimeout(graceTimer);
    await Promise.allSettled([...this.#inFlight]);
    await this.#loop;
    this.#runAbort.abort();
    this.#state = 'stopped';
  }

  /** Aborts every running task now (the agent is shutting down past its grace). */
  abortAll(message = 'the agent is shutting down'): void {
    this.#pollAbort.abort();
    for (const running of this.#running) running.work.abort(new TaskStopped('shutdown', message));
  }

  #wake(): void {
    const wake = this.#slotFreed;
    this.#slotFreed = undefined;
    wake?.();
  }

  #log(level: Parameters<ConsumerLog>[0], message: string, fields?: Record<string, unknown>): void {
    this.#options.log?.(level, message, fields);
  }

  async #poll(): Promise<void> {
    const { sqs, queueUrl, concurrency } = this.#options;
    const waitTimeSeconds = this.#options.waitTimeSeconds ?? TASK_QUEUE.receiveWaitSeconds;
    while (this.#state === 'running') {
      const free = concurrency - this.#inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        continue;
      }
      let messages: Message[];
      let receivedAt: number;
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, free),
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: this.#pollAbort.signal },
        );
        messages = answer.Messages ?? [];
        receivedAt = performance.now();
      } catch (error) {
        if (this.#state !== 'running' || isAbort(error)) return;
        this.#log('warn', 'receive failed; retrying', { error: describeError(error) });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        continue;
      }
      if (this.#state !== 'running') {
        // Received while stopping: hand them back at once rather than after the visibility timeout.
        await Promise.allSettled(messages.map((message) => this.#release(message)));
        return;
      }
      for (const message of messages) this.#track(message, receivedAt);
    }
  }

  #track(received: Message, receivedAt: number): void {
    const work = this.#handle(received, { received: receivedAt })
      .catch((error: unknown) => this.#log('error', 'task handling failed', { error: describeError(error) }))
      .finally(() => {
        this.#inFlight.delete(work);
        this.#wake();
      });
    this.#inFlight.add(work);
  }

  async #handle(received: Message, marks: TaskMarks): Promise<void> {
    this.#stats.received += 1;
    // The body as received, for `log_level: debug` (it carries the task token).
    this.#log('debug', 'message received', { message_id: received.MessageId, body: received.Body });
    let message: TaskMessageV1;
    try {
      message = parseTaskMessage(received.Body ?? '');
    } catch (error) {
      // No usable token: leave the message to the redrive policy (dead-letter queue).
      this.#stats.invalid += 1;
      this.#log('warn', 'not a task message; left for the dead-letter queue', {
        message_id: received.MessageId,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    const fields = { task_id: message.task_id, attempt: message.attempt, task_type: message.task_type };
    const { handler } = this.#options;
    const claim = await handler.claim(message);
    if (claim.kind === 'leave') {
      this.#log('info', 'delivered again while being worked on here; left alone', fields);
      return;
    }
    if (claim.kind === 'drop') {
      await this.#delete(received, message);
      return;
    }
    if (claim.kind === 'resend') {
      this.#log('info', 'delivered again after it was answered; sending the same answer', fields);
      const outcome = await this.#answer(message, claim.answer);
      if (outcome !== 'unanswered') await this.#delete(received, message);
      if (outcome === 'answered') this.#logAnswered(message, claim.answer);
      return;
    }

    const running: Running = { message, work: new AbortController() };
    this.#running.add(running);
    const beat = setInterval(() => void this.#heartbeat(running, received), heartbeatIntervalMs(message));
    try {
      const answer = await handler.run(message, running.work.signal, marks);
      if (answer !== undefined) await handler.answering?.(message, answer);
      const reason: unknown = running.work.signal.reason;
      if (reason instanceof TaskStopped && reason.why === 'token-gone') {
        // Cancelled or timed out: nobody waits for an answer.
        this.#stats.abandoned += 1;
        await handler.settled?.(message, 'gone');
        await this.#delete(received, message);
        return;
      }
      if (answer === undefined) {
        await handler.settled?.(message, 'unanswered');
        return;
      }
      const outcome = await this.#answer(message, answer);
      const answered = performance.now();
      await handler.settled?.(message, outcome);
      if (outcome !== 'unanswered') await this.#delete(received, message);
      if (outcome === 'answered')
        this.#logAnswered(message, answer, taskTimingFields(marks, answered, performance.now()));
    } finally {
      clearInterval(beat);
      this.#running.delete(running);
    }
  }

  /** Sends the answer; a gone token counts as settled (someone else finished it). */
  async #answer(message: TaskMessageV1, answer: TaskAnswer): Promise<'answered' | 'gone' | 'unanswered'> {
    const { sfn } = this.#options;
    const fields = { task_id: message.task_id, attempt: message.attempt, task_type: message.task_type };
    const options = { abortSignal: this.#runAbort.signal };
    try {
      if (answer.kind === 'success')
        await sfn.send(new SendTaskSuccessCommand(taskSuccessRequest(message, answer.output)), options);
      else await sfn.send(new SendTaskFailureCommand(taskFailureRequest(message, answer.report)), options);
      if (answer.kind === 'success') this.#stats.succeeded += 1;
      else this.#stats.failed += 1;
      return 'answered';
    } catch (error) {
      if (isGoneToken(error)) {
        this.#stats.abandoned += 1;
        this.#log('info', 'the task is no longer awaited (cancelled, timed out or answered already)', fields);
        return 'gone';
      }
      // Step Functions unreachable: keep the message; it comes back after its visibility timeout.
      this.#log('error', 'could not answer the task; the message comes back later', {
        ...fields,
        error: describeError(error),
      });
      return 'unanswered';
    }
  }

  /** One line per answered task, once its message is deleted too (so the timing covers both). */
  #logAnswered(message: TaskMessageV1, answer: TaskAnswer, timing: Record<string, number> = {}): void {
    this.#log('info', answer.kind === 'success' ? 'task succeeded' : 'task failed', {
      task_id: message.task_id,
      attempt: message.attempt,
      task_type: message.task_type,
      ...(answer.kind === 'failure' ? { error: answer.report.error } : {}),
      ...timing,
    });
  }

  async #heartbeat(running: Running, received: Message): Promise<void> {
    const { sfn, sqs, queueUrl } = this.#options;
    const { message, work } = running;
    if (work.signal.aborted) return;
    const fields = { task_id: message.task_id, attempt: message.attempt };
    try {
      await sfn.send(new SendTaskHeartbeatCommand(taskHeartbeatRequest(message)), {
        abortSignal: this.#runAbort.signal,
      });
    } catch (error) {
      if (isGoneToken(error)) {
        this.#log(
          'warn',
          'heartbeat refused: the deployment was cancelled or the task timed out; stopping it',
          {
            ...fields,
            error: error instanceof Error ? error.name : String(error),
          },
        );
        work.abort(new TaskStopped('token-gone', 'the deployment was cancelled or the task timed out'));
        return;
      }
      this.#log('warn', 'heartbeat failed; trying again at the next beat', {
        ...fields,
        error: describeError(error),
      });
    }
    if (received.ReceiptHandle === undefined) return;
    // Keep the message hidden from other agents while this one works on it.
    await sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: received.ReceiptHandle,
          VisibilityTimeout: visibilitySeconds(message),
        }),
        { abortSignal: this.#runAbort.signal },
      )
      .catch((error: unknown) =>
        this.#log('warn', 'could not extend the message visibility', {
          ...fields,
          error: describeError(error),
        }),
      );
  }

  async #delete(received: Message, message: TaskMessageV1): Promise<void> {
    if (received.ReceiptHandle === undefined) return;
    const { sqs, queueUrl } = this.#options;
    await sqs
      .send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }), {
        abortSignal: this.#runAbort.signal,
      })
      .catch((error: unknown) =>
        this.#log('warn', 'could not delete the message', {
          task_id: message.task_id,
          error: describeError(error),
        }),
      );
  }

  async #release(received: Message): Promise<void> {
    if (received.ReceiptHandle === undefined) return;
    const { sqs, queueUrl } = this.#options;
    await sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: received.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
        { abortSignal: this.#runAbort.signal },
      )
      .catch(() => undefined);
  }
}
