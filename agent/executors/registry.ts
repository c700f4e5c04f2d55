import type { Executor } from './executor';

/**
 * Step type → executor. The agent looks a task's `task_type` up here; a type nobody
 * registered fails the task at once, naming the type. Later registrations of a type replace
 * earlier ones, so a team can override a built-in.
 */
export class ExecutorRegistry {
  readonly #executors = new Map<string, Executor>();

  register(executor: Executor): this {
    this.#executors.set(executor.type, executor);
    return this;
  }

  get(type: string): Executor | undefined {
    return this.#executors.get(type);
  }

  types(): string[] {
    return [...this.#executors.keys()].sort();
  }
}
