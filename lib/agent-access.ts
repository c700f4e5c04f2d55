import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { STORED_CREDENTIALS } from '../lambdas/agent-protocol/stored-credentials';
import { TASK_LOG } from '../lambdas/agent-protocol/task-log';
import type { DataTable } from './data-table';
import type { TaskQueue } from './task-queue';
import type { Workflows } from './workflows';

export const AGENT_QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
] as const;

export const AGENT_TASK_ACTIONS = [
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
] as const;

/** Writing a task's log chunks: PutItem, one per flush (agent-protocol/task-log.ts). */
export const AGENT_LOG_ACTIONS = ['dynamodb:PutItem'] as const;

export interface AgentAccessProps {
  readonly taskQueue: TaskQueue;
  readonly workflows: Workflows;
  readonly table: DataTable;
}

/**
 * Everything a deploy agent may do, as one managed policy to attach to the agent's role
 * (EC2 instance profile, EKS service account, ECS task role, …): consume the task queue and
 * answer the workflow that is waiting on the task token, and write the logs of its tasks
 * (items under `TASKLOG#`) and the records of its fetches of stored credentials (under
 * `CREDACCESS#`), both enforced by the leading-key condition; reading the stored credentials
 * is added by EnvironmentCredentials.grantRead. Nothing else.
 */
export class AgentAccess extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: AgentAccessProps) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, 'Policy', {
      description:
        'deploy-manager agent: consume the task queue, report task results to Step Functions, write task logs',
      statements: [
        new PolicyStatement({
          sid: 'ConsumeTaskQueue',
          actions: [...AGENT_QUEUE_ACTIONS],
          resources: [props.taskQueue.queue.queueArn],
        }),
        // Step Functions authorises a task-token answer against the state machine whose
        // execution issued the token, so the answer is limited to this service's workflows.
        new PolicyStatement({
          sid: 'AnswerTaskTokens',
          actions: [...AGENT_TASK_ACTIONS],
          resources: [...props.workflows.stateMachines.values()].map((machine) => machine.stateMachineArn),
        }),
        // Task logs and credential access records: items whose partition key starts with
        // TASKLOG# or CREDACCESS#, nothing else of the table.
        new PolicyStatement({
          sid: 'WriteTaskLogs',
          actions: [...AGENT_LOG_ACTIONS],
          resources: [props.table.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': [`${TASK_LOG.keyPrefix}*`, `${STORED_CREDENTIALS.accessKeyPrefix}*`],
            },
          },
        }),
      ],
    });
  }
}
