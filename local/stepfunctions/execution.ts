import { type ContextObject, contextObjectFor } from './context-object';
import { executionFailure } from './errors';
import { ExecutionHistory, type HistoryMappingContext } from './history';
import { type AwsClients, runTaskState } from './integrations';
import { ExecutionError, ExecutionTimeoutError } from './interpreter';
import type { JsonValue } from './json';
import type { RegisteredStateMachine } from './state-machine-registry';
import type { TokenRegistry } from './token-registry';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What every execution shares: where it calls AWS and the token registry. */
export interface ExecutionServices {
  readonly region: string;
  readonly clients: AwsClients;
  readonly tokens: TokenRegistry;
}

export interface ExecutionStart {
  readonly arn: string;
  readonly name: string;
  readonly stateMachine: RegisteredStateMachine;
  /** The input text as given to StartExecution (already checked to be JSON). */
  readonly input: string;
  readonly parsedInput: JsonValue;
}

/** One execution: an interpreter run plus the record DescribeExecution reports. */
export class Execution {
  readonly arn: string;
  readonly name: string;
  readonly stateMachine: RegisteredStateMachine;
  readonly input: string;
  readonly startDate = new Date();
  readonly history = new ExecutionHistory();
  /** Settles once the run has ended and its history is complete. */
  readonly done: Promise<void>;

  #status: ExecutionStatus = 'RUNNING';
  #stopDate: Date | undefined;
  #output: string | undefined;
  #error: string | undefined;
  #cause: string | undefined;
  readonly #abort: () => void;
  readonly #services: ExecutionServices;

  constructor(start: ExecutionStart, services: ExecutionServices) {
    this.arn = start.arn;
    this.name = start.name;
    this.stateMachine = start.stateMachine;
    this.input = start.input;
    this.#services = services;

    const { compiled, runtime } = start.stateMachine;
    const run = runtime.run(start.parsedInput, {
      context: this.#contextObject(start.parsedInput),
      overrides: { taskResourceLocalHandlers: this.#taskHandlers() },
    });
    this.#abort = run.abort;

    const mapping: HistoryMappingContext = {
      roleArn: start.stateMachine.roleArn,
      stopReason: () => ({ error: this.#error, cause: this.#cause }),
      taskResource: (stateName) => compiled.taskStates.get(stateName)?.resource,
    };
    const historyDrained = (async () => {
      for await (const event of run.eventLogs) {
        this.history.ingest(event, mapping);
        // The interpreter aborts the other branches of a failed Parallel/Map, but cannot
        // reach into our waits: retire their tokens, as AWS does.
        if (event.type === 'StateFailed' && (event.state.type === 'Parallel' || event.state.type === 'Map')) {
          const failed = event.state.name;
          this.#cancelWaits(
            (stateName) => compiled.enclosingStates.get(stateName)?.includes(failed) ?? false,
            `state '${failed}' failed`,
          );
        }
      }
    })();
    this.done = Promise.allSettled([run.result, historyDrained]).then(([result]) => this.#finish(result));
  }

  get status(): ExecutionStatus {
    return this.#status;
  }
  get stopDate(): Date | undefined {
    return this.#stopDate;
  }
  get output(): string | undefined {
    return this.#output;
  }
  get error(): string | undefined {
    return this.#error;
  }
  get cause(): string | undefined {
    return this.#cause;
  }

  /** StopExecution: ABORTED at once; the interpreter and any waiting task are cut off. */
  stop(error: string | undefined, cause: string | undefined): void {
    if (this.#status !== 'RUNNING') return;
    this.#status = 'ABORTED';
    this.#stopDate = new Date();
    this.#error = error;
    this.#cause = cause;
    this.#abort();
    this.#cancelWaits(() => true, 'the execution was stopped');
  }

  #contextObject(input: JsonValue): ContextObject {
    const { stateMachine } = this;
    return contextObjectFor({
      executionArn: this.arn,
      executionName: this.name,
      stateMachineArn: stateMachine.arn,
      stateMachineName: stateMachine.name,
      roleArn: stateMachine.roleArn,
      input,
      startDate: this.startDate,
    });
  }

  /** One local handler per Task state, nested ones included (the interpreter keys by name). */
  #taskHandlers(): Record<string, (parameters: JsonValue) => Promise<JsonValue>> {
    const services = this.#services;
    const handlers: Record<string, (parameters: JsonValue) => Promise<JsonValue>> = {};
    for (const task of this.stateMachine.compiled.taskStates.values()) {
      handlers[task.name] = (parameters) =>
        runTaskState(parameters, {
          executionArn: this.arn,
          region: services.region,
          task,
          clients: services.clients,
          tokens: services.tokens,
          history: this.history.forState(task.name),
          isStopped: () => this.#status !== 'RUNNING',
        });
    }
    return handlers;
  }

  #cancelWaits(matchesState: (stateName: string) => boolean, reason: string): void {
    this.#services.tokens.cancel(
      (wait) => wait.executionArn === this.arn && matchesState(wait.stateName),
      reason,
    );
  }

  #finish(result: PromiseSettledResult<JsonValue>): void {
    if (this.#status === 'RUNNING') {
      this.#stopDate = new Date();
      if (result.status === 'fulfilled') {
        this.#status = 'SUCCEEDED';
        this.#output = JSON.stringify(result.value);
      } else if (result.reason instanceof ExecutionTimeoutError) {
        this.#status = 'TIMED_OUT';
      } else {
        this.#status = 'FAILED';
        // ExecutionError wraps the state's error: its name is the ASL error, its message the cause.
        const failure: unknown =
          result.reason instanceof ExecutionError ? result.reason.cause : result.reason;
        const reported = executionFailure(
          failure instanceof Error ? failure.name : 'States.Runtime',
          failure instanceof Error ? failure.message : String(failure),
        );
        this.#error = reported.error;
        this.#cause = reported.cause;
      }
    }
    this.#cancelWaits(() => true, 'the execution has ended');
  }
}
