import { setTimeout as sleep } from 'node:timers/promises';
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
  InvalidTaskMessageError,
  parseTaskMessage,
  type TaskMessageV1,
  taskFailureRequest,
  taskHeartbeatRequest,
  taskSuccessRequest,
} from '../../lambdas/agent-protocol';
import { simulatedFailure, simulatedResult, simulationOf } from './simulation';

export interface SimulatedAgentOptions {
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
  readonly queueUrl: string;
  /** tasks worked on at the same time */
  readonly concurrency?: number;
  /** SQS long-poll wait */
  readonly waitTimeSeconds?: number;
  /** how long a task takes when its config has no `simulate_delay_ms` */
  readonly defaultDelayMs?: number;
  /** one line per task and per problem; silent when absent */
  readonly log?: (line: string) => void;
}

export interface AgentStats {
  readonly received: number;
  readonly succeeded: number;
  readonly failed: number;
  /** messages that are not task messages: left for the queue's dead-letter redrive */
  readonly invalid: number;
  /** tasks whose token was no longer wanted (cancelled, timed out, answered already) */
  readonly abandoned: number;
  readonly inFlight: number;
}

export const DEFAULT_AGENT_CONCURRENCY = 16;
export const DEFAULT_SIMULATED_DELAY_MS = 20;

/** Step Functions' answers for a token nobody waits for any more (docs/agent-protocol.md). */
const GONE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
const isGoneToken = (error: unknown) => error instanceof Error && GONE_TOKEN_ERRORS.has(error.name);
const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/** Forget answered tasks beyond this many; it only guards against duplicate deliveries. */
const ANSWERED_MEMORY = 10_000;

/**
 * A deploy agent that pretends to work: it follows the real agent contract (long-poll the
 * task queue, parse with the protocol schema, heartbeat, answer with the task token via
 * Step Functions, then delete the message) and reports plausible results.
 */
export class SimulatedAgent {
  readonly #options: Required<Omit<SimulatedAgentOptions, 'log'>> & Pick<SimulatedAgentOptions, 'log'>;
  #running = false;
  #loop: Promise<void> | undefined;
  #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  /** `task_id#attempt` being worked on or answered: a duplicate delivery is not worked twice */
  readonly #seen = new Map<string, 'working' | 'answered'>();
  #slotFreed: (() => void) | undefined;
  #stats = { received: 0, succeeded: 0, failed: 0, invalid: 0, abandoned: 0 };

  constructor(options: SimulatedAgentOptions) {
    this.#options = {
      concurrency: DEFAULT_AGENT_CONCURRENCY,
      waitTimeSeconds: 20,
      defaultDelayMs: DEFAULT_SIMULATED_DELAY_MS,
      ...options,
    };
  }

  get running(): boolean {
    return this.#running;
  }

  stats(): AgentStats {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = new AbortController();
    this.#loop = this.#poll();
  }

  /**
   * Stops within moments: the long poll is cut (SQS may still hand a message to the closed
   * connection) and unfinished tasks are abandoned unanswered, as a killed agent's would be.
   * Either kind of message comes back after its visibility timeout.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopping.abort();
    this.#slotFreed?.();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #poll(): Promise<void> {
    const { sqs, queueUrl, concurrency, waitTimeSeconds } = this.#options;
    const signal = this.#stopping.signal;
    while (this.#running) {
      const free = concurrency - this.#inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        continue;
      }
      let messages: Message[];
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, free),
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        );
        messages = answer.Messages ?? [];
      } catch (error) {
        if (!this.#running || isAbort(error)) return;
        this.#log(`receive failed: ${describe(error)}; retrying`);
        await sleep(500, undefined, { signal }).catch(() => undefined);
        continue;
      }
      for (const message of messages) this.#track(this.#handle(message));
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => {
      this.#inFlight.delete(work);
      const wake = this.#slotFreed;
      this.#slotFreed = undefined;
      wake?.();
    });
  }

  async #handle(received: Message): Promise<void> {
    this.#stats.received += 1;
    let message: TaskMessageV1;
    try {
      message = parseTaskMessage(received.Body ?? '');
    } catch (error) {
      // No usable token: leave the message to the redrive policy (dead-letter queue).
      this.#stats.invalid += 1;
      this.#log(error instanceof InvalidTaskMessageError ? error.message : describe(error));
      return;
    }
    const key = `${message.task_id}#${message.attempt}`;
    const seen = this.#seen.get(key);
    if (seen === 'answered') {
      await this.#delete(received);
      return;
    }
    if (seen === 'working') return;
    this.#seen.set(key, 'working');
    try {
      await this.#work(message, received);
    } finally {
      if (this.#seen.get(key) === 'working') this.#seen.delete(key);
    }
  }

  async #work(message: TaskMessageV1, received: Message): Promise<void> {
    const { sfn, defaultDelayMs } = this.#options;
    const started = performance.now();
    const simulation = simulationOf(message, defaultDelayMs);
    const work = new AbortController();
    const abandon = () => work.abort();
    this.#stopping.signal.addEventListener('abort', abandon, { once: true });
    const heartbeat = setInterval(() => {
      void this.#heartbeat(message, received).then((alive) => {
        if (!alive) abandon();
      });
    }, heartbeatIntervalMs(message));
    try {
      await sleep(simulation.delayMs, undefined, { signal: work.signal });
      if (simulation.fail) {
        await sfn.send(new SendTaskFailureCommand(taskFailureRequest(message, simulatedFailure(message))));
        this.#stats.failed += 1;
      } else {
        await sfn.send(new SendTaskSuccessCommand(taskSuccessRequest(message, simulatedResult(message))));
        this.#stats.succeeded += 1;
      }
      this.#remember(message);
      this.#log(
        `${message.task_type} ${message.task_id} of ${message.deployment_id} (attempt ${message.attempt}): ${
          simulation.fail ? 'failed (simulate_fail)' : 'success'
        } in ${Math.round(performance.now() - started)} ms`,
      );
      await this.#delete(received);
    } catch (error) {
      if (this.#stopping.signal.aborted) return;
      if (isGoneToken(error) || work.signal.aborted) {
        // Cancelled, timed out or answered by someone else: nothing left to do for it.
        this.#stats.abandoned += 1;
        this.#remember(message);
        this.#log(`${message.task_type} ${message.task_id}: no longer awaited; dropped`);
        await this.#delete(received);
        return;
      }
      // Step Functions unreachable: leave the message; it comes back after the visibility timeout.
      this.#log(`${message.task_type} ${message.task_id}: could not answer: ${describe(error)}`);
    } finally {
      clearInterval(heartbeat);
      this.#stopping.signal.removeEventListener('abort', abandon);
    }
  }

  /** false: the token is gone (the deployment was cancelled), so the work can stop. */
  async #heartbeat(message: TaskMessageV1, received: Message): Promise<boolean> {
    const { sfn, sqs, queueUrl } = this.#options;
    try {
      await sfn.send(new SendTaskHeartbeatCommand(taskHeartbeatRequest(message)));
    } catch (error) {
      if (isGoneToken(error)) return false;
      this.#log(`heartbeat of ${message.task_id} failed: ${describe(error)}`);
    }
    if (received.ReceiptHandle !== undefined) {
      // Keep the message hidden from other agents while this one works on it.
      const seconds = Math.max(30, Math.ceil((heartbeatIntervalMs(message) * 3) / 1000));
      await sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: received.ReceiptHandle,
            VisibilityTimeout: Math.min(seconds, 43_200),
          }),
        )
        .catch((error: unknown) => this.#log(`visibility of ${message.task_id}: ${describe(error)}`));
    }
    return true;
  }

  async #delete(received: Message): Promise<void> {
    if (received.ReceiptHandle === undefined) return;
    const { sqs, queueUrl } = this.#options;
    await sqs
      .send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }))
      .catch((error: unknown) => this.#log(`delete failed: ${describe(error)}`));
  }

  #remember(message: TaskMessageV1): void {
    this.#seen.set(`${message.task_id}#${message.attempt}`, 'answered');
    if (this.#seen.size <= ANSWERED_MEMORY) return;
    const oldest = this.#seen.keys().next();
    if (!oldest.done) this.#seen.delete(oldest.value);
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
