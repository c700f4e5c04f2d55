import type { AgentConfig } from '../config/agent-config';
import { BuildExecutor } from './build';
import { HealthCheckExecutor } from './health-check';
import { kubernetesExecutors } from './kubernetes';
import { physicalExecutors } from './physical';
import { ExecutorRegistry } from './registry';
import { TestExecutor } from './test';

/**
 * The executors every agent has. The physical-host (agent/executors/physical) and
 * Kubernetes (agent/executors/kubernetes) executors register here too; a team's own come
 * from the config's `executor_modules` (docs/agent.md).
 */
export function builtinExecutors(config: Pick<AgentConfig, 'buildah'>): ExecutorRegistry {
  const registry = new ExecutorRegistry()
    .register(new BuildExecutor(config.buildah))
    .register(new TestExecutor())
    .register(new HealthCheckExecutor());
  for (const executor of physicalExecutors()) registry.register(executor, { environmentType: 'physical' });
  for (const executor of kubernetesExecutors())
    registry.register(executor, { environmentType: 'kubernetes' });
  return registry;
}
