import type { DeploymentStrategy } from '../../lambdas/domain/deployment';
import { executionArnOf, type WorkflowManager } from '../../lambdas/execution/workflow-manager';

export interface StartedExecution {
  readonly strategy: DeploymentStrategy;
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly arn: string;
}

/** A WorkflowManager that records what the API asked of Step Functions. */
export class RecordingWorkflows implements WorkflowManager {
  readonly started: StartedExecution[] = [];
  readonly stopped: string[] = [];
  /** the next start throws this, once */
  failNextStart: Error | undefined;

  async start(strategy: DeploymentStrategy, name: string, input: string): Promise<string> {
    const failure = this.failNextStart;
    if (failure) {
      this.failNextStart = undefined;
      throw failure;
    }
    const arn = executionArnOf(`arn:aws:states:us-east-1:000000000000:stateMachine:${strategy}`, name);
    this.started.push({ strategy, name, input: JSON.parse(input) as Record<string, unknown>, arn });
    return arn;
  }

  async stop(executionArn: string): Promise<void> {
    this.stopped.push(executionArn);
  }

  async status(): Promise<undefined> {
    return undefined;
  }
}
