import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SendTaskFailureCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  parseTaskPayload,
  type TaskMessageV1,
  type TaskPayloadV1,
  taskFailureRequest,
} from '../../lambdas/agent-protocol';
import { type AgentConfig, targetFor } from '../config/agent-config';
import type { AgentTarget } from '../config/target';
import type { CredentialsStore } from '../credentials/credentials-store';
import { storedCredentialsAccess } from '../credentials/stored-access';
import { type TaskContext, TaskFailure } from '../executors/executor';
import type { ExecutorRegistry } from '../executors/registry';
import { SecretMasker } from '../logs/secret-masker';
import { TaskLogWriter } from '../logs/task-log';
import type { TaskLogSink } from '../logs/task-log-sink';
import { boundedSuccess, failure, type TaskAnswer } from '../protocol/task-answer';
import {
  describeError,
  isGoneToken,
  type TaskClaim,
  TaskConsumer,
  type TaskHandler,
  type TaskMarks,
  TaskStopped,
} from '../protocol/task-consumer';
import { type JournalEntry, TaskJournal } from './journal';
import type { AgentLogger } from './logger';
import { maskJson } from './mask-json';

export interface DeployAgentOptions {
  readonly config: AgentConfig;
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
  readonly logSink: TaskLogSink;
  readonly executors: ExecutorRegistry;
  readonly log?: AgentLogger;
  /** the environments' stored credentials; the agent config's `stored_credentials` */
  readonly credentialsStore?: CredentialsStore;
}

const key = (message: Pick<TaskMessageV1, 'task_id' | 'attempt'>) => `${message.task_id}#${message.attempt}`;

export const AGENT_RESTARTED = 'AgentRestarted';
export const AGENT_SHUTDOWN = 'AgentShutdown';

/**
 * The deploy agent: the shared TaskConsumer for the queue, a journal for exactly-once work
 * per (task_id, attempt), the config's targets for credentials and addresses, and the
 * executor registry for the work itself. Each task gets a work directory, a log that
 * reaches the API, and a signal aborted when its token is gone or the agent stops.
 */
export class DeployAgent {
  readonly #options: DeployAgentOptions;
  readonly #journal: TaskJournal;
  readonly #consumer: TaskConsumer;
  readonly #log: AgentLogger;
  /** attempts being worked on by this process, with their journal entries */
  readonly #working = new Map<string, JournalEntry | undefined>();

  constructor(options: DeployAgentOptions) {
    this.#options = options;
    this.#log = options.log ?? (() => undefined);
    this.#journal = new TaskJournal(options.config.work_dir);
    this.#consumer = new TaskConsumer({
      sqs: options.sqs,
      sfn: options.sfn,
      queueUrl: options.config.queue.url,
      concurrency: options.config.concurrency,
      waitTimeSeconds: options.config.queue.wait_seconds,
      handler: this.#handler(),
      log: this.#log,
    });
  }

  get state() {
    return this.#consumer.state;
  }

  stats() {
    return this.#consumer.stats();
  }

  /** Fails what a previous run left in flight, then starts receiving. */
  async start(): Promise<void> {
    this.#journal.prune();
    for (const entry of this.#journal.inFlight()) await this.#failRestarted(entry);
    this.#consumer.start();
    this.#log('info', 'agent started', {
      queue_url: this.#options.config.queue.url,
      concurrency: this.#options.config.concurrency,
      executors: this.#options.executors.types(),
      environments: this.#options.config.targets.map((target) => target.environment),
    });
  }

  /** Stops receiving; running tasks get `graceMs`, then fail with AgentShutdown. */
  async stop(graceMs = this.#options.config.shutdown_grace_seconds * 1000): Promise<void> {
    this.#log('info', 'draining: no new tasks; running tasks may finish', {
      running: this.#working.size,
      grace_seconds: Math.round(graceMs / 1000),
    });
    await this.#consumer.stop({
      graceMs,
      reason: `the agent was stopped and the task did not finish within its ${Math.round(graceMs / 1000)} s grace period`,
    });
    this.#log('info', 'agent stopped');
  }

  /** A second signal: fail every running task with AgentShutdown now. */
  abortNow(): void {
    this.#consumer.abortAll('the agent was stopped at once (second signal) before the task finished');
  }

  async #failRestarted(entry: JournalEntry): Promise<void> {
    const answer = failure(
      AGENT_RESTARTED,
      `the deploy agent restarted while attempt ${entry.attempt} of this ${entry.task_type} task was running; its work may be incomplete (retry the task)`,
    );
    const fields = { task_id: entry.task_id, attempt: entry.attempt, task_type: entry.task_type };
    if (answer.kind !== 'failure') return;
    try {
      await this.#options.sfn.send(
        new SendTaskFailureCommand(taskFailureRequest({ task_token: entry.task_token }, answer.report)),
      );
      this.#log('warn', 'failed a task left running by the previous run of the agent', {
        ...fields,
        error: AGENT_RESTARTED,
      });
    } catch (error) {
      if (!isGoneToken(error)) {
        this.#log(
          'error',
          'could not fail a task left running by the previous run; trying again on its redelivery',
          {
            ...fields,
            error: describeError(error),
          },
        );
        return;
      }
    }
    this.#journal.finished(entry, answer);
  }

  #handler(): TaskHandler {
    return {
      claim: (message): TaskClaim => {
        if (this.#working.has(key(message))) return { kind: 'leave' };
        const entry = this.#journal.read(message.task_id, message.attempt);
        if (entry?.state === 'finished' && entry.answer) return { kind: 'resend', answer: entry.answer };
        if (entry?.state === 'started') {
          // Left by an earlier run whose restart could not reach Step Functions.
          const answer = failure(
            AGENT_RESTARTED,
            `the deploy agent restarted while attempt ${message.attempt} was running`,
          );
          this.#journal.finished(entry, answer);
          return { kind: 'resend', answer };
        }
        this.#working.set(key(message), undefined);
        return { kind: 'run' };
      },
      run: (message, signal, marks) => this.#run(message, signal, marks),
      answering: async (message, answer) => {
        const entry = this.#working.get(key(message));
        if (entry) this.#journal.finished(entry, answer);
      },
      settled: (message) => {
        this.#working.delete(key(message));
      },
    };
  }

  async #run(message: TaskMessageV1, signal: AbortSignal, marks: TaskMarks): Promise<TaskAnswer> {
    const { config, logSink } = this.#options;
    const fields = { task_id: message.task_id, attempt: message.attempt, task_type: message.task_type };
    const entry = this.#journal.started({
      task_id: message.task_id,
      attempt: message.attempt,
      task_type: message.task_type,
      task_token: message.task_token,
    });
    this.#working.set(key(message), entry);
    this.#log('info', 'task started', { ...fields, deployment_id: message.deployment_id });

    const masker = new SecretMasker();
    const log = new TaskLogWriter({
      taskId: message.task_id,
      attempt: message.attempt,
      sink: logSink,
      masker,
      maxBytes: config.task_logs.max_bytes_per_attempt,
      onWriteError: (error, chunk) =>
        this.#log('warn', 'could not write a task log chunk; it is lost', {
          ...fields,
          chunk,
          error: describeError(error),
        }),
    });
    const workDir = join(
      config.work_dir,
      'tasks',
      `${encodeURIComponent(message.task_id)}.${message.attempt}`,
    );
    let answer: TaskAnswer;
    try {
      log.info(`deploy-agent: ${message.task_type} task ${message.task_id}, attempt ${message.attempt}`);
      answer = await this.#execute(message, signal, { masker, log, workDir, marks });
    } finally {
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
    log.info(
      answer.kind === 'success'
        ? 'deploy-agent: succeeded'
        : `deploy-agent: failed: ${answer.report.error}: ${answer.report.cause}`,
    );
    await log.close();
    return answer;
  }

  async #execute(
    message: TaskMessageV1,
    signal: AbortSignal,
    parts: { masker: SecretMasker; log: TaskLogWriter; workDir: string; marks: TaskMarks },
  ): Promise<TaskAnswer> {
    const { masker, log, workDir, marks } = parts;
    let payload: TaskPayloadV1;
    try {
      payload = parseTaskPayload(message);
    } catch {
      return failure('InvalidPayload', 'the task payload is not a v1 payload (docs/agent-protocol.md)');
    }
    const { config, credentialsStore } = this.#options;
    // An agent that reads stored credentials serves environments its config does not name.
    const target =
      targetFor(config, { id: message.environment_id, name: payload.environment.name }) ??
      (credentialsStore ? { environment: message.environment_id, secrets: {} } : undefined);
    if (!target)
      return failure(
        'NoTarget',
        `this agent has no target for environment ${payload.environment.name} (${message.environment_id}); add one to its config`,
      );
    const executor = this.#options.executors.get(message.task_type, payload.environment.type);
    if (!executor)
      return failure(
        'UnknownTaskType',
        `this agent has no executor for task type "${message.task_type}" on a ${payload.environment.type} environment (it runs: ${this.#options.executors.types().join(', ')})`,
      );

    await this.#loadHeldSecrets(target, masker, log);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const context: TaskContext = {
      message,
      payload,
      target,
      workDir,
      signal,
      log,
      readSecret: async (path) => {
        const value = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
        masker.add(value);
        return value;
      },
      storedCredentials: storedCredentialsAccess({
        store: credentialsStore,
        agentId: config.agent_id,
        message,
        environmentName: payload.environment.name,
        masker,
        taskLog: log,
        agentLog: this.#log,
      }),
    };
    try {
      marks.executorStarted = performance.now();
      const output = await executor.execute(context).finally(() => {
        marks.executorEnded = performance.now();
      });
      return boundedSuccess(maskJson(output, masker));
    } catch (error) {
      const reason: unknown = signal.reason;
      if (signal.aborted && reason instanceof TaskStopped)
        return reason.why === 'shutdown'
          ? failure(AGENT_SHUTDOWN, reason.message)
          : failure('TaskCancelled', reason.message);
      if (error instanceof TaskFailure) return failure(error.error, masker.mask(error.cause));
      return failure(
        'ExecutorError',
        masker.mask(
          `the ${message.task_type} executor failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
  }

  /** Every credential the target names is masked in this task's log, used or not. */
  async #loadHeldSecrets(target: AgentTarget, masker: SecretMasker, log: TaskLogWriter): Promise<void> {
    const paths = [
      ...Object.values(target.secrets),
      ...(target.registry?.password_path ? [target.registry.password_path] : []),
      ...(target.ssh ? [target.ssh.private_key_path] : []),
    ];
    for (const path of paths) {
      try {
        masker.add((await readFile(path, 'utf8')).replace(/\r?\n$/, ''));
      } catch (error) {
        log.info(
          `cannot read the credential file ${path} (${error instanceof Error && 'code' in error ? String(error.code) : 'unreadable'})`,
        );
      }
    }
  }
}
