import { executionFailure } from './errors';
import type { TaskResource } from './integrations/resources';
import type { StateMachine } from './interpreter';
import type { JsonObject, JsonValue } from './json';

/** One entry of GetExecutionHistory before it gets its id. */
export interface HistoryEvent {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** AWS's HistoryEventType, e.g. `TaskStateEntered`. */
  readonly type: string;
  /** The `<x>EventDetails` member of that type, if it has one. */
  readonly details?: { readonly key: string; readonly value: JsonObject };
}

/** Where a task state's integration reports TaskScheduled/TaskSubmitted/TaskSucceeded/… */
export interface TaskEventSink {
  record(type: string, detailsKey: string, details: JsonObject): void;
}

type InterpreterEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/**
 * The history of one execution. Two sources feed it: the interpreter's event log (state
 * entered/exited, execution started/ended), which is dispatched synchronously but read
 * asynchronously and may lag a few states behind, and the task integrations (Task*
 * events), which record at once. Timestamps cannot order them (many events share a
 * millisecond), so integration events are tied to their state instead: they are committed
 * while that state is open in the history read so far, and otherwise wait until the
 * state's StateEntered (or StateRetried) arrives. Concurrent Map iterations of one state
 * share its name, so their Task events are ordered among each other only roughly.
 */
export class ExecutionHistory {
  readonly #committed: HistoryEvent[] = [];
  #pending: { readonly stateName: string; readonly event: HistoryEvent }[] = [];
  /** How many invocations of each state are open (entered, not yet exited or failed). */
  readonly #open = new Map<string, number>();

  /** The sink a task state's integration records into. */
  forState(stateName: string): TaskEventSink {
    return {
      record: (type, detailsKey, details) => {
        const event: HistoryEvent = {
          timestamp: Date.now(),
          type,
          details: { key: detailsKey, value: details },
        };
        if ((this.#open.get(stateName) ?? 0) > 0) this.#committed.push(event);
        else this.#pending.push({ stateName, event });
      },
    };
  }

  ingest(event: InterpreterEvent, context: HistoryMappingContext): void {
    const entry = fromInterpreterEvent(event, context);
    switch (event.type) {
      case 'StateEntered':
      case 'StateRetried':
      case 'StateCaught':
        this.#push(entry);
        this.#adjustOpen(event.state.name, 1);
        this.#flush((stateName) => stateName === event.state.name);
        return;
      case 'StateExited':
      case 'StateFailed':
        this.#flush((stateName) => stateName === event.state.name);
        this.#push(entry);
        this.#adjustOpen(event.state.name, -1);
        return;
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimeout':
        this.#flush(() => true);
        this.#push(entry);
        return;
      default:
        this.#push(entry);
    }
  }

  events(): readonly HistoryEvent[] {
    return [...this.#committed, ...this.#pending.map(({ event }) => event)];
  }

  #push(entry: HistoryEvent | undefined): void {
    if (entry !== undefined) this.#committed.push(entry);
  }

  #adjustOpen(stateName: string, delta: number): void {
    this.#open.set(stateName, Math.max(0, (this.#open.get(stateName) ?? 0) + delta));
  }

  #flush(matches: (stateName: string) => boolean): void {
    const due = this.#pending.filter(({ stateName }) => matches(stateName));
    if (due.length === 0) return;
    this.#pending = this.#pending.filter((pending) => !due.includes(pending));
    this.#committed.push(...due.map(({ event }) => event));
  }
}

export interface HistoryMappingContext {
  readonly roleArn: string;
  /** error/cause given to StopExecution, for ExecutionAborted. */
  readonly stopReason: () => { error?: string | undefined; cause?: string | undefined };
  readonly taskResource: (stateName: string) => TaskResource | undefined;
}

function fromInterpreterEvent(
  event: InterpreterEvent,
  context: HistoryMappingContext,
): HistoryEvent | undefined {
  const at = event.timestamp;
  const entry = (type: string, key?: string, value?: JsonObject): HistoryEvent =>
    key !== undefined && value !== undefined
      ? { timestamp: at, type, details: { key, value } }
      : { timestamp: at, type };
  switch (event.type) {
    case 'ExecutionStarted':
      return entry('ExecutionStarted', 'executionStartedEventDetails', {
        input: jsonText(event.input),
        inputDetails: { truncated: false },
        roleArn: context.roleArn,
      });
    case 'ExecutionSucceeded':
      return entry('ExecutionSucceeded', 'executionSucceededEventDetails', {
        output: jsonText(event.output),
        outputDetails: { truncated: false },
      });
    case 'ExecutionFailed':
      return entry(
        'ExecutionFailed',
        'executionFailedEventDetails',
        executionFailure(event.Error, causeText(event.Cause)),
      );
    case 'ExecutionAborted':
      return entry(
        'ExecutionAborted',
        'executionAbortedEventDetails',
        withoutUndefined(context.stopReason()),
      );
    case 'ExecutionTimeout':
      return entry('ExecutionTimedOut', 'executionTimedOutEventDetails', { error: 'States.Timeout' });
    case 'StateEntered':
      return entry(`${event.state.type}StateEntered`, 'stateEnteredEventDetails', {
        name: event.state.name,
        input: jsonText(event.state.input),
        inputDetails: { truncated: false },
      });
    case 'StateExited':
      return entry(`${event.state.type}StateExited`, 'stateExitedEventDetails', {
        name: event.state.name,
        output: jsonText(event.state.output ?? null),
        outputDetails: { truncated: false },
      });
    case 'StateFailed': {
      const { type, name } = event.state;
      // Task failures are recorded by the integrations; only the interpreter knows about
      // the TimeoutSeconds it enforces itself.
      const resource = type === 'Task' ? context.taskResource(name) : undefined;
      if (resource !== undefined && event.Error === 'States.Timeout') {
        return entry('TaskTimedOut', 'taskTimedOutEventDetails', {
          resourceType: resource.service,
          resource: resource.resource,
          error: event.Error,
          cause: causeText(event.Cause),
        });
      }
      if (type === 'Parallel' || type === 'Map') return entry(`${type}StateFailed`);
      return undefined;
    }
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const detailsKey = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
      return entry(event.type, detailsKey, { name: event.parentState.name, index: event.index });
    }
    default:
      // StateRetried/StateCaught and Parallel branch events have no AWS counterpart.
      return undefined;
  }
}

function jsonText(value: JsonValue | undefined): string {
  return JSON.stringify(value ?? null);
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause ?? null);
}

function withoutUndefined(record: Record<string, string | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}
