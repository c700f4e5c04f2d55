import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Executor } from './executor';
import type { ExecutorRegistry } from './registry';

/**
 * A team's own executors: each module of the config's `executor_modules` default-exports an
 * Executor, a list of them, or a function that registers them
 * (`export default (registry) => registry.register(new MyExecutor())`).
 */
export async function loadExecutorModules(
  registry: ExecutorRegistry,
  modules: readonly string[],
  baseDir: string,
): Promise<void> {
  for (const module of modules) {
    const specifier =
      module.startsWith('.') || isAbsolute(module) ? pathToFileURL(resolve(baseDir, module)).href : module;
    const loaded: unknown = (await import(specifier)).default;
    const items = Array.isArray(loaded) ? loaded : [loaded];
    for (const item of items) {
      if (typeof item === 'function') await item(registry);
      else if (isExecutor(item)) registry.register(item);
      else
        throw new Error(
          `executor module ${module}: its default export is not an executor or a register function`,
        );
    }
  }
}

const isExecutor = (value: unknown): value is Executor =>
  typeof value === 'object' &&
  value !== null &&
  'type' in value &&
  typeof value.type === 'string' &&
  'execute' in value &&
  typeof value.execute === 'function';
