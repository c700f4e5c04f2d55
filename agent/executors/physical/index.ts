import type { Executor } from '../executor';
import {
  type CleanupBlueOptions,
  cleanupBlueExecutor,
  deployGreenExecutor,
  switchTrafficExecutor,
} from './blue-green';
import { rollingDeployExecutor } from './rolling-deploy';

export type PhysicalExecutorOptions = CleanupBlueOptions;

/**
 * The executors of environments of type `physical` (hosts reached over SSH): `deploy`,
 * `deploy_green`, `switch_traffic` and `cleanup_blue`. They never look at the environment
 * type; register them for (`physical`, step type). docs/physical-hosts.md has the config.
 */
export const physicalExecutors = (options: PhysicalExecutorOptions = {}): Executor[] => [
  rollingDeployExecutor,
  deployGreenExecutor,
  switchTrafficExecutor,
  cleanupBlueExecutor(options),
];

export { cleanupBlueExecutor, deployGreenExecutor, switchTrafficExecutor } from './blue-green';
export { PhysicalConfig } from './config';
export { rollingDeployExecutor } from './rolling-deploy';
