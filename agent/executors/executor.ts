import type { TaskMessageV1, TaskPayloadV1, TaskSuccessOutput } from '../../lambdas/agent-protocol';
import type { AgentTarget } from '../config/target';
import type { StoredCredentialsAccess } from '../credentials/stored-access';

/**
 * The work of one step type. The agent's runtime receives the message, resolves the target,
 * heartbeats, streams the log and answers Step Functions; an executor only does the work and
 * returns the task's result (a JSON object, at most 32 KiB) or throws a TaskFailure.
 * Register your own with `ExecutorRegistry.register` (docs/agent.md shows an example).
 */
export interface Executor {
  /** the step type it runs: `build`, `deploy`, `health_check`, … */
  readonly type: string;
  execute(context: TaskContext): Promise<TaskSuccessOutput>;
}

export interface TaskContext {
  readonly message: TaskMessageV1;
  readonly payload: TaskPayloadV1;
  /** the agent config's target for the task's environment */
  readonly target: AgentTarget;
  /** a directory of this task attempt alone, removed after the answer */
  readonly workDir: string;
  /**
   * Aborted when the task must stop at once: the deployment was cancelled or timed out (a
   * heartbeat was refused), or the agent is shutting down past its grace period. Thread it
   * into every child process, connection and wait.
   */
  readonly signal: AbortSignal;
  /** the task's log, which reaches `GET /tasks/{id}/logs`; secret values are masked by it */
  readonly log: TaskLog;
  /** reads a credential file of the target (a secret value: the log masks it from then on) */
  readonly readSecret: (path: string) => Promise<string>;
  /**
   * The environment's stored credentials, for a target the agent's config holds none for
   * (agent/credentials/target-credentials.ts applies the rule). Absent: none are read.
   */
  readonly storedCredentials?: StoredCredentialsAccess;
}

export interface TaskLog {
  /** a progress line of the executor (`cloning https://… at 1a2b3c`) */
  info(line: string): void;
  /** output of a command or remote process, as it comes; the log splits it into lines */
  output(stream: 'stdout' | 'stderr', chunk: string): void;
}

/**
 * The task failed for a reason the executor knows: `error` is a short code
 * (`HealthCheckFailed`, `RolloutDeadlineExceeded`, `HostKeyMismatch`), `cause` says what
 * happened for people (it becomes the task's result and the deployment's error_message).
 */
export class TaskFailure extends Error {
  override readonly name = 'TaskFailure';
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
  }
}
