import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  SFNServiceException,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  InvalidTaskMessageError,
  parseTaskMessage,
  type TaskFailureReport,
  type TaskMessageV1,
  type TaskSuccessOutput,
  taskFailureRequest,
  taskHeartbeatRequest,
  taskSuccessRequest,
} from '../../lambdas/agent-protocol';

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

// ---------------------------------------------------------------------------------------
// A scripted deploy agent, following docs/agent-protocol.md: it polls the task queue,
// parses every body with parseTaskMessage (a body it cannot parse is neither answered nor
// deleted: the queue's redrive policy takes it to the dead-letter queue), deletes what it
// parsed, and answers Step Functions with the task token as its script says.
// ---------------------------------------------------------------------------------------

/** What the agent does with one task. */
export type AgentAction =
  | { readonly kind: 'succeed'; readonly output: TaskSuccessOutput }
  | { readonly kind: 'fail'; readonly report: TaskFailureReport }
  /** keeps the token: the test answers later (ScriptedAgent.succeed / fail / heartbeat) */
  | { readonly kind: 'hold' }
  /** takes the task and never says anything again, heartbeats included */
  | { readonly kind: 'silent' };

const HOLD: AgentAction = { kind: 'hold' };
const SILENT: AgentAction = { kind: 'silent' };

/** The actions, for scripts: `act.succeed(output)`, `act.fail(error, cause)`, `act.hold`, `act.silent`. */
export const act = {
  succeed: (output: TaskSuccessOutput): AgentAction => ({ kind: 'succeed', output }),
  fail: (error: string, cause: string): AgentAction => ({ kind: 'fail', report: { error, cause } }),
  hold: HOLD,
  silent: SILENT,
} as const;

/** Decides per message; called once per received task message, in arrival order. */
export type AgentScript = (message: TaskMessageV1) => AgentAction;

/** The default result: names the task so a test can tell whose result it sees. */
export const defaultOutput = (message: TaskMessageV1): TaskSuccessOutput => ({
  step: message.step_id,
  application_id: message.application_id,
  attempt: message.attempt,
});

export interface AgentAnswer {
  readonly message: TaskMessageV1;
  readonly outcome: 'success' | 'failure' | 'heartbeat';
  /** the SFN error's name when Step Functions refused the answer (TaskTimedOut, …) */
  readonly rejectedWith?: string;
}

export interface InvalidDelivery {
  readonly body: string;
  readonly reason: string;
}

export interface ScriptedAgentOptions {
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
  readonly queueUrl: string;
  /** every task succeeds with defaultOutput unless told otherwise */
  readonly script?: AgentScript;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pause between two empty short polls. */
const POLL_INTERVAL_MS = 10;

export class ScriptedAgent {
  /** every task message parsed, in the order received */
  readonly received: TaskMessageV1[] = [];
  /** every answer sent to Step Functions, in order, with its fate */
  readonly answers: AgentAnswer[] = [];
  /** bodies that were not task messages (left on the queue) */
  readonly invalid: InvalidDelivery[] = [];
  readonly #options: ScriptedAgentOptions;
  readonly #stopping = new AbortController();
  readonly #work = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;

  constructor(options: ScriptedAgentOptions) {
    this.#options = options;
  }

  start(): void {
    this.#loop ??= this.#poll();
  }

  /** Stops polling and waits for answers in flight; held tasks stay unanswered. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    await Promise.allSettled([...this.#work]);
  }

  /** The messages of one deployment, in the order received. */
  messagesOf(deploymentId: string): TaskMessageV1[] {
    return this.received.filter((message) => message.deployment_id === deploymentId);
  }

  /** Waits until a received message matches, and returns it. */
  async waitForMessage(
    matches: (message: TaskMessageV1) => boolean,
    timeoutMs = 10_000,
  ): Promise<TaskMessageV1> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(matches);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching task message within ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  succeed(message: TaskMessageV1, output: TaskSuccessOutput = defaultOutput(message)): Promise<AgentAnswer> {
    return this.#answer(message, 'success', () =>
      this.#options.sfn.send(new SendTaskSuccessCommand(taskSuccessRequest(message, output))),
    );
  }

  fail(message: TaskMessageV1, report: TaskFailureReport): Promise<AgentAnswer> {
    return this.#answer(message, 'failure', () =>
      this.#options.sfn.send(new SendTaskFailureCommand(taskFailureRequest(message, report))),
    );
  }

  /**
   * Answers outside the agent protocol, as an agent that does not use its helpers could:
   * any output text (SendTaskSuccess) or any error name (SendTaskFailure), unchecked.
   */
  succeedUnchecked(message: TaskMessageV1, output: string): Promise<AgentAnswer> {
    return this.#answer(message, 'success', () =>
      this.#options.sfn.send(new SendTaskSuccessCommand({ taskToken: message.task_token, output })),
    );
  }

  failUnchecked(message: TaskMessageV1, error: string, cause?: string): Promise<AgentAnswer> {
    return this.#answer(message, 'failure', () =>
      this.#options.sfn.send(
        new SendTaskFailureCommand({
          taskToken: message.task_token,
          error,
          ...(cause === undefined ? {} : { cause }),
        }),
      ),
    );
  }

  heartbeat(message: TaskMessageV1): Promise<AgentAnswer> {
    return this.#answer(message, 'heartbeat', () =>
      this.#options.sfn.send(new SendTaskHeartbeatCommand(taskHeartbeatRequest(message))),
    );
  }

  async #answer(
    message: TaskMessageV1,
    outcome: AgentAnswer['outcome'],
    send: () => Promise<unknown>,
  ): Promise<AgentAnswer> {
    let answer: AgentAnswer;
    try {
      await send();
      answer = { message, outcome };
    } catch (error) {
      // Step Functions refused it (the token is gone): an agent drops such a task.
      if (!(error instanceof SFNServiceException)) throw error;
      answer = { message, outcome, rejectedWith: error.name };
    }
    this.answers.push(answer);
    return answer;
  }

  async #poll(): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      // Short polls: a long poll cut short by stop() would still take a message to the closed
      // connection, hiding it from the next agent for the whole visibility timeout.
      const { Messages: messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const received of messages) {
        if (signal.aborted) await this.#release(received);
        else await this.#take(received);
      }
      if (messages.length === 0) await sleep(POLL_INTERVAL_MS);
    }
  }

  /** Hands a message received while stopping back to the queue at once. */
  async #release(received: Message): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: received.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }

  async #take(received: Message): Promise<void> {
    const body = received.Body ?? '';
    let message: TaskMessageV1;
    try {
      message = parseTaskMessage(body);
    } catch (error) {
      if (!(error instanceof InvalidTaskMessageError)) throw error;
      this.invalid.push({ body, reason: error.message });
      return;
    }
    const { sqs, queueUrl } = this.#options;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }));
    this.received.push(message);
    const action = (this.#options.script ?? (() => act.succeed(defaultOutput(message))))(message);
    switch (action.kind) {
      case 'succeed':
        this.#track(this.succeed(message, action.output));
        return;
      case 'fail':
        this.#track(this.fail(message, action.report));
        return;
      case 'hold':
      case 'silent':
        // The test answers a held task itself (succeed / fail / heartbeat); a silent one, never.
        return;
    }
  }

  #track(answer: Promise<AgentAnswer>): void {
    const work = answer.then(() => undefined);
    this.#work.add(work);
    void work.finally(() => this.#work.delete(work));
  }
}
