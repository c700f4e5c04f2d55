import type { Executor } from './executor';

/** The environment types of the API (`kubernetes`, `physical`). */
export type EnvironmentType = 'kubernetes' | 'physical';

export interface RegisterOptions {
  /** only for environments of this type; for every environment when absent */
  readonly environmentType?: EnvironmentType;
}

const ANY = '*';
const keyOf = (environmentType: string, type: string) => `${environmentType}:${type}`;

/**
 * (environment type, step type) → executor. A `deploy` on a Kubernetes environment and on
 * physical hosts are different executors; `build` or `health_check` serve both. The agent
 * looks a task up by its `task_type` and its environment's type: the executor registered for
 * that environment type wins over one registered for every environment; a type nobody
 * registered fails the task at once, naming the type. A later registration of the same key
 * replaces an earlier one, so a team can override a built-in.
 */
export class ExecutorRegistry {
  readonly #executors = new Map<string, Executor>();

  register(executor: Executor, options: RegisterOptions = {}): this {
    this.#executors.set(keyOf(options.environmentType ?? ANY, executor.type), executor);
    return this;
  }

  get(type: string, environmentType?: string): Executor | undefined {
    return (
      (environmentType === undefined ? undefined : this.#executors.get(keyOf(environmentType, type))) ??
      this.#executors.get(keyOf(ANY, type))
    );
  }

  /** `build`, `deploy (kubernetes)`, …: what this agent runs, for logs and failure messages. */
  types(): string[] {
    return [...this.#executors.keys()]
      .map((key) => {
        const [environmentType, type] = key.split(':');
        return environmentType === ANY ? `${type}` : `${type} (${environmentType})`;
      })
      .sort();
  }
}
