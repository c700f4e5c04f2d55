import type { Executor } from '../executor';
import { cleanupBlueExecutor, deployGreenExecutor, switchTrafficExecutor } from './blue-green';
import { deployExecutor, type KubernetesExecutorOptions } from './deploy';

export type { KubernetesExecutorOptions } from './deploy';
export { rolloutState } from './rollout';

/**
 * The executors of environments of type `kubernetes`: `deploy` (rolling update),
 * `deploy_green`, `switch_traffic` and `cleanup_blue` (blue-green). docs/kubernetes.md.
 */
export function kubernetesExecutors(options: KubernetesExecutorOptions = {}): Executor[] {
  return [
    deployExecutor(options),
    deployGreenExecutor(options),
    switchTrafficExecutor(options),
    cleanupBlueExecutor(),
  ];
}
