import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { DeploymentStrategy } from '../domain/deployment';

export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

/**
 * The spec's WorkflowManager: starts, stops and reads the Step Functions executions that
 * run deployments. One state machine per strategy; the execution name is the idempotency
 * key, so starting the same deployment twice cannot run it twice.
 */
export interface WorkflowManager {
  /** Starts (or finds, if it already runs with this input) the named execution; its ARN. */
  start(strategy: DeploymentStrategy, executionName: string, input: string): Promise<string>;
  /** The ARN the named execution of a strategy has (or will have once started). */
  executionArn(strategy: DeploymentStrategy, executionName: string): string;
  /** Stops the execution; one that does not exist (yet) or ended already is no error. */
  stop(executionArn: string, cause: string): Promise<void>;
  status(executionArn: string): Promise<ExecutionStatus | undefined>;
}

/**
 * The name of a deployment's execution: its id for the first run, `<id>-resume-<n>` for the
 * n-th resume. The deployment's `resumes` counter thus names the execution that runs it now,
 * so a cancel stops the right one even while a retry is still starting it.
 */
export const executionNameOf = (deploymentId: string, resumes: number): string =>
  resumes === 0 ? deploymentId : `${deploymentId}-resume-${resumes}`;

export type StateMachineArns = Readonly<Record<DeploymentStrategy, string>>;

/** `arn:aws:states:r:a:stateMachine:sm` + name → `arn:aws:states:r:a:execution:sm:name` */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

export function createWorkflowManager(client: SFNClient, stateMachines: StateMachineArns): WorkflowManager {
  return {
    async start(strategy, executionName, input) {
      const stateMachineArn = stateMachines[strategy];
      try {
        const { executionArn } = await client.send(
          new StartExecutionCommand({ stateMachineArn, name: executionName, input }),
        );
        return executionArn ?? executionArnOf(stateMachineArn, executionName);
      } catch (error) {
        // The name was used before: the execution exists already, which is the point of naming it.
        if (error instanceof ExecutionAlreadyExists) return executionArnOf(stateMachineArn, executionName);
        throw error;
      }
    },
    executionArn: (strategy, executionName) => executionArnOf(stateMachines[strategy], executionName),
    async stop(executionArn, cause) {
      try {
        await client.send(new StopExecutionCommand({ executionArn, error: 'DeploymentCancelled', cause }));
      } catch (error) {
        if (!(error instanceof ExecutionDoesNotExist)) throw error;
      }
    },
    async status(executionArn) {
      try {
        const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
        return status;
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist) return undefined;
        throw error;
      }
    },
  };
}
