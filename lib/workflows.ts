import { ArnFormat, Fn, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  compileWorkflow,
  definitionSubstitutions,
  type JsonValue,
  type StateMachineDefinition,
  WORKFLOW_TEMPLATES,
  WorkflowStrategy,
} from '../lambdas/workflow';
import type { DataTable } from './data-table';
import { pascalCase } from './naming';
import type { TaskQueue } from './task-queue';

/**
 * The service integrations the compiler may emit: the IAM action each needs and what it
 * acts on. A state machine's role gets exactly the actions its task states use.
 */
const INTEGRATIONS: Readonly<Record<string, { readonly action: string; readonly on: 'table' | 'queue' }>> = {
  'arn:aws:states:::dynamodb:getItem': { action: 'dynamodb:GetItem', on: 'table' },
  'arn:aws:states:::dynamodb:putItem': { action: 'dynamodb:PutItem', on: 'table' },
  'arn:aws:states:::dynamodb:updateItem': { action: 'dynamodb:UpdateItem', on: 'table' },
  'arn:aws:states:::dynamodb:deleteItem': { action: 'dynamodb:DeleteItem', on: 'table' },
  'arn:aws:states:::sqs:sendMessage.waitForTaskToken': { action: 'sqs:SendMessage', on: 'queue' },
};

const TRANSACT_WRITE_ITEMS = 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems';

/** TransactWriteItems is authorised per item: the action of each kind of item. */
const TRANSACTION_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

export interface TaskStateCall {
  readonly resource: string;
  readonly parameters: JsonValue | undefined;
}

/** The `Resource` and `Parameters` of every Task state, Parallel branches and Map processors included. */
export function taskStateCalls(definition: JsonValue): TaskStateCall[] {
  if (Array.isArray(definition)) return definition.flatMap(taskStateCalls);
  if (typeof definition !== 'object' || definition === null) return [];
  const { Type, Resource, Parameters } = definition;
  const own =
    Type === 'Task' && typeof Resource === 'string' ? [{ resource: Resource, parameters: Parameters }] : [];
  return [...own, ...Object.values(definition).flatMap(taskStateCalls)];
}

/** The `Resource` of every Task state. */
export const taskResources = (definition: JsonValue): string[] =>
  taskStateCalls(definition).map((call) => call.resource);

function transactionActions(parameters: JsonValue | undefined): string[] {
  const items =
    typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)
      ? parameters.TransactItems
      : undefined;
  if (!Array.isArray(items)) throw new Error('a transactWriteItems state has no TransactItems');
  return items.flatMap((item) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.keys(item).map((kind) => {
          const action = TRANSACTION_ITEM_ACTIONS[kind];
          if (!action)
            throw new Error(`a transaction item of kind ${kind}, which the stack grants nothing for`);
          return action;
        })
      : [],
  );
}

/** The IAM actions a definition's task states need, on the table and on the task queue. */
export function integrationActions(definition: StateMachineDefinition): Record<'table' | 'queue', string[]> {
  const actions = { table: new Set<string>(), queue: new Set<string>() };
  for (const { resource, parameters } of taskStateCalls(definition)) {
    if (resource === TRANSACT_WRITE_ITEMS) {
      for (const action of transactionActions(parameters)) actions.table.add(action);
      continue;
    }
    const integration = INTEGRATIONS[resource];
    if (!integration)
      throw new Error(`the workflow calls ${resource}, which the stack grants no permission for`);
    actions[integration.on].add(integration.action);
  }
  return { table: [...actions.table].sort(), queue: [...actions.queue].sort() };
}

/**
 * Every execution of one state machine: executions are named after deployments at run
 * time, so only the name can be a wildcard.
 */
export const executionArnPattern = (machine: StateMachine): string =>
  Stack.of(machine).formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${machine.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

export interface WorkflowsProps {
  readonly table: DataTable;
  readonly taskQueue: TaskQueue;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * One STANDARD state machine per workflow template (one per deployment strategy), running
 * the compiler's definition unchanged (the local runtime executes the same one); the table
 * name and queue URL go in through definition substitutions.
 */
export class Workflows extends Construct {
  /** by deployment strategy (= template name) */
  readonly stateMachines: ReadonlyMap<WorkflowStrategy, StateMachine>;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const substitutions = definitionSubstitutions({
      tableName: props.table.table.tableName,
      taskQueueUrl: props.taskQueue.queue.queueUrl,
    });
    // Unique per stack *instance*: a retained log group of a deleted stack never blocks a new one.
    const stackGuid = Fn.select(2, Fn.split('/', Stack.of(this).stackId));
    const machines = new Map<WorkflowStrategy, StateMachine>();
    for (const name of WorkflowStrategy.options) {
      const id = pascalCase(name);
      const logGroup = new LogGroup(this, `${id}Logs`, {
        // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's
        // CloudWatch Logs resource policy, which has a small size limit.
        logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${name}-${stackGuid}`,
        retention: props.logRetention,
        removalPolicy: props.logRemovalPolicy,
      });
      const definition = compileWorkflow(WORKFLOW_TEMPLATES[name]);
      const machine = new StateMachine(this, id, {
        stateMachineType: StateMachineType.STANDARD,
        definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
        definitionSubstitutions: substitutions,
        tracingEnabled: true,
        logs: {
          destination: logGroup,
          // Every state transition and error, without inputs and outputs: those carry task
          // payloads (application and environment configuration), agent results and task
          // tokens, which the table already keeps under tighter access.
          level: LogLevel.ALL,
          includeExecutionData: false,
        },
      });
      const actions = integrationActions(definition);
      if (actions.table.length > 0) {
        machine.addToRolePolicy(
          new PolicyStatement({ actions: actions.table, resources: [props.table.table.tableArn] }),
        );
      }
      if (actions.queue.length > 0) {
        machine.addToRolePolicy(
          new PolicyStatement({ actions: actions.queue, resources: [props.taskQueue.queue.queueArn] }),
        );
      }
      machines.set(name, machine);
    }
    this.stateMachines = machines;
  }
}
