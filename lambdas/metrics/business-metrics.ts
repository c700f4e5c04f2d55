import type { DeploymentStrategy } from '../domain/deployment';

/**
 * Business events the API itself sees. Successes, failures and task durations happen inside
 * the workflow and are counted from the table's stream instead.
 */
export interface BusinessMetrics {
  deploymentCreated(strategy: DeploymentStrategy): void;
  deploymentCancelled(): void;
  taskRetried(taskType: string): void;
}
