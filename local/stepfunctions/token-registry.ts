import { randomBytes } from 'node:crypto';
import { sfnErrors, TaskCancelled, TaskFailure } from './errors';
import type { JsonValue } from './json';

export interface OpenWaitOptions {
  readonly executionArn: string;
  readonly stateName: string;
  readonly heartbeatSeconds?: number | undefined;
  readonly timeoutSeconds?: number | undefined;
}

/** A wait as seen from outside the registry. */
export interface WaitInfo extends OpenWaitOptions {
  readonly token: string;
}

/** One `.waitForTaskToken` task waiting for its agent. */
export interface TaskWait {
  readonly token: string;
  /** Settles with the agent's answer, or a TaskFailure/TaskCancelled. */
  readonly result: Promise<JsonValue>;
}

interface PendingWait extends WaitInfo {
  readonly resolve: (output: JsonValue) => void;
  readonly reject: (error: Error) => void;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
}

// Opaque like AWS's (which are base64 too); the fixed shape lets us tell a mangled token
// (InvalidToken) from one we never issued (TaskDoesNotExist).
const TOKEN_SHAPE = /^AQ[A-Za-z0-9_-]{128}$/;

/**
 * Task tokens of every execution: issues them, and settles the waiting task when the
 * agent answers with SendTaskSuccess/SendTaskFailure, or when it stays silent longer than
 * HeartbeatSeconds. A token that has ended answers TaskTimedOut, as on AWS.
 */
export class TokenRegistry {
  readonly #pending = new Map<string, PendingWait>();
  readonly #ended = new Set<string>();

  open(options: OpenWaitOptions): TaskWait {
    const token = `AQ${randomBytes(96).toString('base64url')}`;
    let resolve: (output: JsonValue) => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const promise = new Promise<JsonValue>((onSuccess, onFailure) => {
      resolve = onSuccess;
      reject = onFailure;
    });
    // The interpreter may already have moved on (its own TimeoutSeconds won the race);
    // a late settlement must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    const wait: PendingWait = { ...options, token, resolve, reject };
    this.#pending.set(token, wait);
    this.#armHeartbeat(wait);
    if (options.timeoutSeconds !== undefined) {
      // The interpreter enforces TimeoutSeconds and fails the state with its own
      // States.Timeout (which States.TaskFailed must not match, so we cannot raise it
      // ourselves); this timer only retires the token, so a late agent gets TaskTimedOut.
      wait.timeoutTimer = setTimeout(() => this.#end(wait), options.timeoutSeconds * 1000);
    }
    return { token, result: promise };
  }

  succeed(token: string, output: JsonValue): void {
    const wait = this.#find(token);
    this.#end(wait);
    wait.resolve(output);
  }

  fail(token: string, error: string | undefined, cause: string | undefined): void {
    const wait = this.#find(token);
    this.#end(wait);
    wait.reject(new TaskFailure(error ?? '', cause ?? ''));
  }

  heartbeat(token: string): void {
    this.#armHeartbeat(this.#find(token));
  }

  /** Ends the matching waits without running any Retry/Catch (the execution is gone). */
  cancel(matches: (wait: WaitInfo) => boolean, reason: string): void {
    for (const wait of [...this.#pending.values()]) {
      if (!matches(wait)) continue;
      this.#end(wait);
      wait.reject(new TaskCancelled(reason));
    }
  }

  #find(token: string): PendingWait {
    if (!TOKEN_SHAPE.test(token)) throw sfnErrors.invalidToken('Invalid token');
    const wait = this.#pending.get(token);
    if (wait !== undefined) return wait;
    if (this.#ended.has(token)) throw sfnErrors.taskTimedOut();
    throw sfnErrors.taskDoesNotExist();
  }

  #armHeartbeat(wait: PendingWait): void {
    const seconds = wait.heartbeatSeconds;
    if (seconds === undefined) return;
    clearTimeout(wait.heartbeatTimer);
    wait.heartbeatTimer = setTimeout(() => {
      this.#end(wait);
      wait.reject(new TaskFailure('States.HeartbeatTimeout', ''));
    }, seconds * 1000);
  }

  #end(wait: PendingWait): void {
    clearTimeout(wait.heartbeatTimer);
    clearTimeout(wait.timeoutTimer);
    this.#pending.delete(wait.token);
    this.#ended.add(wait.token);
  }
}
