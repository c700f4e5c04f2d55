import { beforeAll, describe, expect, it } from 'vitest';
import {
  compileWorkflow,
  SUBSTITUTION_KEYS,
  WORKFLOW_TEMPLATES,
  WorkflowStrategy,
} from '../../lambdas/workflow';
import {
  actionsOf,
  defined,
  logicalIdOf,
  propertiesOf,
  roleStatements,
  type Synthesized,
  synthesize,
} from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every Task state, nested Parallel branches and Map processors included. */
function taskStates(definition: unknown): Json[] {
  if (Array.isArray(definition)) return definition.flatMap(taskStates);
  if (!isObject(definition)) return [];
  const own = definition.Type === 'Task' && typeof definition.Resource === 'string' ? [definition] : [];
  return [...own, ...Object.values(definition).flatMap(taskStates)];
}

const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/**
 * `arn:aws:states:::dynamodb:updateItem` → `dynamodb:UpdateItem`;
 * `….sqs:sendMessage.waitForTaskToken` → `sqs:SendMessage`; `….aws-sdk:dynamodb:transactWriteItems`
 * → the action of each of its items (`Update` → `dynamodb:UpdateItem`, `ConditionCheck` →
 * `dynamodb:ConditionCheckItem`), which is how DynamoDB authorises a transaction.
 */
function iamActionsOf(state: Json): string[] {
  const resource = String(state.Resource);
  if (resource === 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems') {
    const items = (state.Parameters as { TransactItems: Json[] }).TransactItems;
    return items.flatMap((item) => Object.keys(item).map((kind) => `dynamodb:${kind}Item`));
  }
  const match = /^arn:aws:states:::([a-z]+):([a-zA-Z]+)(\.[a-zA-Z]+)?$/.exec(resource);
  if (!match?.[1] || !match[2]) throw new Error(`not a service integration: ${resource}`);
  return [`${match[1]}:${capitalized(match[2])}`];
}

const machineProperties = (strategy: WorkflowStrategy): Json =>
  propertiesOf(
    synthesized.json,
    logicalIdOf(
      defined(synthesized.stack.workflows.stateMachines.get(strategy), `${strategy} state machine`),
    ),
  );

describe.each(WorkflowStrategy.options)('the %s state machine', (strategy) => {
  it('runs exactly what compileWorkflow produces for the template', () => {
    const { DefinitionString } = machineProperties(strategy);
    expect(typeof DefinitionString).toBe('string');
    expect(JSON.parse(String(DefinitionString))).toEqual(compileWorkflow(WORKFLOW_TEMPLATES[strategy]));
  });

  it('gets the table and the task queue through definition substitutions', () => {
    expect(machineProperties(strategy).DefinitionSubstitutions).toEqual({
      [SUBSTITUTION_KEYS.tableName]: { Ref: logicalIdOf(synthesized.stack.data.table) },
      [SUBSTITUTION_KEYS.taskQueueUrl]: { Ref: logicalIdOf(synthesized.stack.taskQueue.queue) },
    });
  });

  it('is a STANDARD workflow, traced, logging every event without execution data, with a retention', () => {
    const properties = machineProperties(strategy);
    expect(properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const [destination] = (properties.LoggingConfiguration as { Destinations: Json[] }).Destinations;
    const arn = defined(destination, 'log destination').CloudWatchLogsLogGroup as {
      LogGroupArn: { 'Fn::GetAtt': [string, string] };
    };
    expect(propertiesOf(synthesized.json, arn.LogGroupArn['Fn::GetAtt'][0])).toMatchObject({
      RetentionInDays: 30,
    });
  });

  it('may call exactly the service integrations its task states use, on the table and the queue only', () => {
    const definition = JSON.parse(String(machineProperties(strategy).DefinitionString)) as unknown;
    const used = new Set(taskStates(definition).flatMap(iamActionsOf));
    const roleId = (machineProperties(strategy).RoleArn as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    const statements = roleStatements(synthesized.json, roleId);
    const granted = statements
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('dynamodb:') || action.startsWith('sqs:'));
    expect(used.size).toBeGreaterThan(0);
    expect(new Set(granted)).toEqual(used);
    for (const statement of statements) {
      const actions = actionsOf(statement);
      if (actions.some((action) => action.startsWith('dynamodb:'))) {
        expect(statement.Resource).toEqual({
          'Fn::GetAtt': [logicalIdOf(synthesized.stack.data.table), 'Arn'],
        });
      }
      if (actions.some((action) => action.startsWith('sqs:'))) {
        expect(statement.Resource).toEqual({
          'Fn::GetAtt': [logicalIdOf(synthesized.stack.taskQueue.queue), 'Arn'],
        });
      }
    }
  });
});

describe('the workflows', () => {
  it('are one per template', () => {
    synthesized.template.resourceCountIs(
      'AWS::StepFunctions::StateMachine',
      Object.keys(WORKFLOW_TEMPLATES).length,
    );
  });
});
