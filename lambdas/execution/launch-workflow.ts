import type { DeploymentStrategy } from '../domain/deployment';
import { Unavailable } from '../domain/errors';
import type { WorkflowManager } from './workflow-manager';

export interface WorkflowLaunch {
  readonly strategy: DeploymentStrategy;
  readonly executionName: string;
  readonly input: string;
  /** undoes what the start was for when it failed: the deployment and its tasks end failed */
  readonly abandon: () => Promise<void>;
  /** what the client is told when the start failed */
  readonly unavailableMessage: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface LaunchDependencies {
  readonly workflows: WorkflowManager;
  /** logs a fault the caller gets as a clean error */
  readonly reportFault: (message: string, error: unknown) => void;
}

/**
 * Starts a deployment's execution (named, so a repeated start cannot run it twice). When the
 * start fails, the fault is logged, the deployment is abandoned and the client gets a 503
 * saying what state it was left in.
 */
export async function launchWorkflow(
  dependencies: LaunchDependencies,
  launch: WorkflowLaunch,
): Promise<string> {
  try {
    return await dependencies.workflows.start(launch.strategy, launch.executionName, launch.input);
  } catch (error) {
    dependencies.reportFault(`could not start the workflow execution ${launch.executionName}`, error);
    await launch.abandon();
    throw new Unavailable(launch.unavailableMessage, launch.details);
  }
}
