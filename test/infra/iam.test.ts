import { beforeAll, describe, expect, it } from 'vitest';
import { INDEX_LIST } from '../../lambdas/store/table-definition';
import { apiResources, RESOURCE_ACCESS } from '../../lib/api-functions';
import {
  actionsOf,
  defined,
  logicalIdOf,
  type PolicyStatement,
  propertiesOfConstruct,
  roleStatements,
  type Synthesized,
  statementsOf,
  synthesize,
  type TemplateJson,
} from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

interface FoundPolicy {
  readonly where: string;
  readonly kind: 'identity' | 'resource';
  readonly statements: readonly PolicyStatement[];
}

/** Every policy document in the template: identity policies (inline, managed, role) and resource policies. */
function allPolicies(json: TemplateJson): FoundPolicy[] {
  return Object.entries(json.Resources).flatMap(([id, resource]): FoundPolicy[] => {
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        return [{ where: id, kind: 'identity', statements: statementsOf(properties.PolicyDocument) }];
      case 'AWS::IAM::Role':
        return ((properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((policy) => ({
          where: `${id} (inline)`,
          kind: 'identity',
          statements: statementsOf(policy.PolicyDocument),
        }));
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        return [{ where: id, kind: 'resource', statements: statementsOf(properties.PolicyDocument) }];
      case 'AWS::KMS::Key':
        return [{ where: id, kind: 'resource', statements: statementsOf(properties.KeyPolicy) }];
      default:
        return [];
    }
  });
}

const resourcesIn = (statement: PolicyStatement): unknown[] => [statement.Resource].flat();

/**
 * The only actions granted on `*`, each because the service has no resource-level
 * permission for it.
 */
const STAR_RESOURCE_ALLOWED = new Set([
  // X-Ray active tracing (Lambda and Step Functions)
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // Step Functions execution logging to CloudWatch Logs (log delivery is account-level)
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // the status-metrics event source mapping finding the table's stream
  'dynamodb:ListStreams',
]);

/**
 * A KMS key policy's Resource is always `*` (it means "this key"). The alarm topic key's
 * policy is AWS's default administration statement (the account, `kms:*`) and the
 * CloudWatch alarms' encrypt/decrypt statement.
 */
const isKeyPolicy = (policy: FoundPolicy) =>
  policy.kind === 'resource' && synthesized.json.Resources[policy.where]?.Type === 'AWS::KMS::Key';

describe('every IAM policy of the stack', () => {
  it('grants no wildcard action, nor a whole service', () => {
    for (const policy of allPolicies(synthesized.json).filter((found) => !isKeyPolicy(found))) {
      for (const statement of policy.statements.filter((found) => found.Effect === 'Allow')) {
        for (const action of actionsOf(statement)) {
          expect(action, `${policy.where} allows ${action}`).not.toContain('*');
        }
      }
    }
  });

  it('grants `*` resources only for the listed actions that have no resource-level permission', () => {
    for (const policy of allPolicies(synthesized.json).filter((found) => !isKeyPolicy(found))) {
      for (const statement of policy.statements.filter((found) => found.Effect === 'Allow')) {
        if (!resourcesIn(statement).includes('*')) continue;
        for (const action of actionsOf(statement)) {
          expect(STAR_RESOURCE_ALLOWED.has(action), `${policy.where}: ${action} on *`).toBe(true);
        }
      }
    }
  });

  it('key policies: the account administers the key, CloudWatch alarms of this account may use it', () => {
    const keyPolicies = allPolicies(synthesized.json).filter(isKeyPolicy);
    expect(keyPolicies).toHaveLength(1);
    const [statements] = keyPolicies.map((policy) => policy.statements);
    expect(statements?.map((statement) => [actionsOf(statement), statement.Principal])).toEqual([
      [['kms:*'], { AWS: expect.anything() }],
      [['kms:Decrypt', 'kms:GenerateDataKey*'], { Service: 'cloudwatch.amazonaws.com' }],
    ]);
  });

  it('attaches no AWS managed policy but the API Gateway logging role', () => {
    const attached = Object.entries(synthesized.json.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
      .flatMap(([id, resource]) =>
        [(resource.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? []]
          .flat()
          .map((arn) => [id, arn]),
      );
    const cloudWatchRole = synthesized.stack.api.restApi.node.findChild('CloudWatchRole');
    expect(attached).toEqual([
      [
        logicalIdOf(cloudWatchRole),
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
            ],
          ],
        },
      ],
    ]);
  });
});

const granted = (statements: readonly PolicyStatement[], prefix: string) =>
  new Set(statements.flatMap(actionsOf).filter((action) => action.startsWith(prefix)));

describe.each(apiResources())('the %s function', (resource) => {
  const fn = () => defined(synthesized.stack.apiFunctions.functions.get(resource), `${resource} function`);
  const statements = () => roleStatements(synthesized.json, logicalIdOf(defined(fn().role, 'role')));

  it('has exactly the table actions its repositories use, Query also on each index by name', () => {
    const table = logicalIdOf(synthesized.stack.data.table);
    expect(granted(statements(), 'dynamodb:')).toEqual(new Set(RESOURCE_ACCESS[resource].table));
    const query = statements().find((statement) => actionsOf(statement).includes('dynamodb:Query'));
    expect(query?.Resource).toEqual([
      { 'Fn::GetAtt': [table, 'Arn'] },
      ...INDEX_LIST.map((index) => ({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, `/index/${index.indexName}`]],
      })),
    ]);
    for (const statement of statements()) {
      if (
        actionsOf(statement).some((action) => action.startsWith('dynamodb:') && action !== 'dynamodb:Query')
      ) {
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
      }
    }
  });

  it('may start, stop and describe workflow executions only if it runs deployments', () => {
    const expected = RESOURCE_ACCESS[resource].workflows
      ? ['states:StartExecution', 'states:StopExecution', 'states:DescribeExecution']
      : [];
    expect(granted(statements(), 'states:')).toEqual(new Set(expected));
  });

  it('writes to its own log group only', () => {
    const logs = statements().filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('logs:')),
    );
    expect(logs).toEqual([
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(fn().functionLogGroup), 'Arn'] },
      }),
    ]);
  });
});

describe('the workflow callers', () => {
  it('start the two state machines and stop or describe only their executions', () => {
    const deployments = defined(synthesized.stack.apiFunctions.functions.get('deployments'), 'deployments');
    const statements = roleStatements(synthesized.json, logicalIdOf(defined(deployments.role, 'role')));
    const machines = [...synthesized.stack.workflows.stateMachines.values()].map(logicalIdOf);
    expect(statements.find((statement) => statement.Action === 'states:StartExecution')?.Resource).toEqual(
      machines.map((id) => ({ Ref: id })),
    );
    const executions = statements.find((statement) => actionsOf(statement).includes('states:StopExecution'));
    expect(executions?.Resource).toEqual(
      machines.map((id) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':states:eu-west-1:123456789012:execution:',
            { 'Fn::GetAtt': [id, 'Name'] },
            ':*',
          ],
        ],
      })),
    );
  });
});

describe('the status-metrics consumer', () => {
  it('reads the table stream and touches no item', () => {
    const fn = synthesized.stack.statusMetrics.function;
    const statements = roleStatements(synthesized.json, logicalIdOf(defined(fn.role, 'role')));
    expect(granted(statements, 'dynamodb:')).toEqual(
      new Set([
        'dynamodb:ListStreams',
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
      ]),
    );
    expect(granted(statements, 'states:')).toEqual(new Set());
  });
});

describe('the agent policy', () => {
  it('consumes the task queue and answers task tokens of the two state machines, nothing else', () => {
    const properties = propertiesOfConstruct(synthesized, synthesized.stack.agents.policy);
    const queue = logicalIdOf(synthesized.stack.taskQueue.queue);
    const machines = [...synthesized.stack.workflows.stateMachines.values()].map((machine) => ({
      Ref: logicalIdOf(machine),
    }));
    expect(statementsOf(properties?.PolicyDocument)).toEqual([
      {
        Sid: 'ConsumeTaskQueue',
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
      },
      {
        Sid: 'AnswerTaskTokens',
        Effect: 'Allow',
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        Resource: machines,
      },
    ]);
  });

  it('is attached to nobody: the operator attaches it to the agents', () => {
    const properties = propertiesOfConstruct(synthesized, synthesized.stack.agents.policy);
    expect(properties?.Roles).toBeUndefined();
    expect(properties?.Users).toBeUndefined();
  });
});
