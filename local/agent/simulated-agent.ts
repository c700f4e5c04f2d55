import { setTimeout as sleep } from 'node:timers/promises';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { failure, success, type TaskAnswer } from '../../agent/protocol/task-answer';
import {
  type ConsumerStats,
  type TaskClaim,
  TaskConsumer,
  type TaskHandler,
} from '../../agent/protocol/task-consumer';
import type { TaskMessageV1 } from '../../lambdas/agent-protocol';
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

export type AgentStats = ConsumerStats;

export const DEFAULT_AGENT_CONCURRENCY = 16;
export const DEFAULT_SIMULATED_DELAY_MS = 20;

/** Forget answered tasks beyond this many; it only guards against duplicate deliveries. */
const ANSWERED_MEMORY = 10_000;

/**
 * A deploy agent that pretends to work. The queue side (long poll, heartbeat + visibility,
 * answer, delete) is the real agent's TaskConsumer (agent/protocol); only the work is
 * simulated: a delay and a plausible result per task type.
 */
export class SimulatedAgent {
  readonly #options: SimulatedAgentOptions;
  #consumer: TaskConsumer | undefined;
  /** `task_id#attempt` being worked on or answered: a duplicate delivery is not worked twice */
  readonly #seen = new Map<string, 'working' | 'answered'>();

  constructor(options: SimulatedAgentOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#consumer?.state === 'running';
  }

  stats(): AgentStats {
    return (
      this.#consumer?.stats() ?? {
        received: 0,
        succeeded: 0,
        failed: 0,
        invalid: 0,
        abandoned: 0,
        inFlight: 0,
      }
    );
  }

  start(): void {
    if (this.running) return;
    const { sqs, sfn, queueUrl, concurrency, waitTimeSeconds, log } = this.#options;
    this.#consumer = new TaskConsumer({
      sqs,
      sfn,
      queueUrl,
      concurrency: concurrency ?? DEFAULT_AGENT_CONCURRENCY,
      waitTimeSeconds: waitTimeSeconds ?? 20,
      handler: this.#handler(),
      ...(log
        ? {
            // The agent's own line per task says how it went; the consumer's adds the problems.
            log: (level, message, fields) =>
              level === 'debug' || message === 'task succeeded' || message === 'task failed'
                ? undefined
                : log(fields ? `${message} ${JSON.stringify(fields)}` : message),
          }
        : {}),
    });
    this.#consumer.start();
  }

  /**
   * Stops within moments: the long poll is cut (SQS may still hand a message to the closed
   * connection) and unfinished tasks are abandoned unanswered, as a killed agent's would be.
   * Either kind of message comes back after its visibility timeout.
   */
  async stop(): Promise<void> {
    await this.#consumer?.stop({ graceMs: 0, cutPoll: true });
  }

  #handler(): TaskHandler {
    const key = (message: TaskMessageV1) => `${message.task_id}#${message.attempt}`;
    return {
      claim: (message): TaskClaim => {
        const seen = this.#seen.get(key(message));
        if (seen === 'answered') return { kind: 'drop' };
        if (seen === 'working') return { kind: 'leave' };
        this.#seen.set(key(message), 'working');
        return { kind: 'run' };
      },
      run: async (message, signal): Promise<TaskAnswer | undefined> => {
        const simulation = simulationOf(message, this.#options.defaultDelayMs ?? DEFAULT_SIMULATED_DELAY_MS);
        const started = performance.now();
        try {
          await sleep(simulation.delayMs, undefined, { signal });
        } catch {
          return undefined;
        }
        this.#options.log?.(
          `${message.task_type} ${message.task_id} of ${message.deployment_id} (attempt ${message.attempt}): ${
            simulation.fail ? 'failed (simulate_fail)' : 'success'
          } in ${Math.round(performance.now() - started)} ms`,
        );
        if (!simulation.fail) return success(simulatedResult(message));
        const report = simulatedFailure(message);
        return failure(report.error, report.cause);
      },
      settled: (message, outcome) => {
        if (outcome === 'unanswered') {
          this.#seen.delete(key(message));
          return;
        }
        this.#remember(key(message));
      },
    };
  }

  #remember(key: string): void {
    this.#seen.delete(key);
    this.#seen.set(key, 'answered');
    if (this.#seen.size <= ANSWERED_MEMORY) return;
    const oldest = this.#seen.keys().next();
    if (!oldest.done) this.#seen.delete(oldest.value);
  }
}
