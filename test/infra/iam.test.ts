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
  /** the role the policy is attached to (its logical id), or the policy itself when attached to none */
  readonly holder: string;
  readonly kind: 'identity' | 'resource';
  readonly statements: readonly PolicyStatement[];
}

/** Every policy document in the template: identity policies (inline, managed, role) and resource policies. */
function allPolicies(json: TemplateJson): FoundPolicy[] {
  return Object.entries(json.Resources).flatMap(([id, resource]): FoundPolicy[] => {
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const roles = (properties.Roles as { Ref?: string }[] | undefined) ?? [];
        const holders = roles.length > 0 ? roles.map((role) => String(role.Ref)) : [id];
        return holders.map((holder) => ({
          where: id,
          holder,
          kind: 'identity',
          statements: statementsOf(properties.PolicyDocument),
        }));
      }
      case 'AWS::IAM::Role':
        return ((properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((policy) => ({
          where: `${id} (inline)`,
          holder: id,
          kind: 'identity',
          statements: statementsOf(policy.PolicyDocument),
        }));
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        return [
          { where: id, holder: id, kind: 'resource', statements: statementsOf(properties.PolicyDocument) },
        ];
      case 'AWS::KMS::Key':
        return [{ where: id, holder: id, kind: 'resource', statements: statementsOf(properties.KeyPolicy) }];
      default:
        return [];
    }
  });
}

const resourcesIn = (statement: PolicyStatement): unknown[] => [statement.Resource].flat();

const XRAY_SEGMENTS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

/**
 * CDK's BucketDeployment (it publishes the console) runs a singleton function of CDK's own
 * whose role we do not write: it reads the asset bucket and writes the console bucket with
 * CDK's grant families (`s3:GetObject*` …), on those buckets only, invalidates the
 * distribution (CloudFront invalidations take no resource) and logs with AWS's basic role.
 */
const BUCKET_DEPLOYMENT = /^CustomCDKBucketDeployment[0-9A-F]+ServiceRole/;
const BUCKET_DEPLOYMENT_GRANT_FAMILIES = [
  's3:GetObject*',
  's3:GetBucket*',
  's3:List*',
  's3:DeleteObject*',
  's3:Abort*',
];
const bucketDeploymentRoles = (json: TemplateJson): string[] =>
  Object.keys(json.Resources).filter(
    (id) => BUCKET_DEPLOYMENT.test(id) && json.Resources[id]?.Type === 'AWS::IAM::Role',
  );
const isBucketDeploymentPolicy = (policy: FoundPolicy) => BUCKET_DEPLOYMENT.test(policy.holder);

/**
 * Every grant on `*` in the stack, by role, each because the service offers no resource-level
 * permission for the action. The walk below must find exactly these, no more and no fewer.
 */
const STAR_RESOURCE_EXCEPTIONS: readonly {
  readonly who: string;
  /** the roles' logical ids */
  readonly roles: (synthesized: Synthesized) => readonly string[];
  readonly actions: readonly string[];
  readonly why: string;
}[] = [
  {
    who: 'every Lambda function',
    roles: ({ stack }) =>
      [...stack.apiFunctions.functions.values(), stack.statusMetrics.function].map((fn) =>
        logicalIdOf(defined(fn.role, `${fn.node.path} role`)),
      ),
    actions: XRAY_SEGMENTS,
    why: 'active tracing sends segments to X-Ray, whose PutTraceSegments/PutTelemetryRecords take no resource',
  },
  {
    who: 'every state machine',
    roles: ({ stack }) =>
      [...stack.workflows.stateMachines.values()].map((machine) => logicalIdOf(machine.role)),
    actions: [...XRAY_SEGMENTS, 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
    why: 'X-Ray tracing of the executions: no X-Ray action takes a resource',
  },
  {
    who: 'every state machine',
    roles: ({ stack }) =>
      [...stack.workflows.stateMachines.values()].map((machine) => logicalIdOf(machine.role)),
    actions: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    why: 'execution logging is a vended log delivery, which CloudWatch Logs authorises at account level only',
  },
  {
    who: 'the status-metrics consumer',
    roles: ({ stack }) => [logicalIdOf(defined(stack.statusMetrics.function.role, 'status-metrics role'))],
    actions: ['dynamodb:ListStreams'],
    why: "its event source mapping finds the table's stream with ListStreams, which takes no resource",
  },
  {
    who: "CDK's BucketDeployment function (publishes the console)",
    roles: ({ json }) => bucketDeploymentRoles(json),
    actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
    why: 'it invalidates the console distribution after publishing; CloudFront invalidations take no resource',
  },
];

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
          if (isBucketDeploymentPolicy(policy) && BUCKET_DEPLOYMENT_GRANT_FAMILIES.includes(action)) {
            expect(resourcesIn(statement), `${policy.where} ${action} on its buckets only`).not.toContain(
              '*',
            );
            continue;
          }
          expect(action, `${policy.where} allows ${action}`).not.toContain('*');
        }
      }
    }
  });

  it('grants `*` resources exactly where STAR_RESOURCE_EXCEPTIONS lists it', () => {
    const found = allPolicies(synthesized.json)
      .filter((policy) => !isKeyPolicy(policy))
      .flatMap((policy) =>
        policy.statements
          .filter((statement) => statement.Effect === 'Allow' && resourcesIn(statement).includes('*'))
          .flatMap((statement) => actionsOf(statement).map((action) => `${policy.holder} ${action}`)),
      );
    const expected = STAR_RESOURCE_EXCEPTIONS.flatMap((exception) =>
      exception.roles(synthesized).flatMap((id) => exception.actions.map((action) => `${id} ${action}`)),
    );
    expect(found.sort()).toEqual(expected.sort());
    for (const exception of STAR_RESOURCE_EXCEPTIONS) expect(exception.why.length).toBeGreaterThan(40);
  });

  it('key policies: the account administers the key, CloudWatch alarms of this account may use it', () => {
    const credentialsKey = logicalIdOf(synthesized.stack.credentials.key);
    const keyPolicies = allPolicies(synthesized.json).filter(isKeyPolicy);
    expect(keyPolicies).toHaveLength(2);
    // the stored credentials' key: the account administers it; users go through IAM and Secrets Manager
    expect(
      keyPolicies
        .filter((policy) => policy.holder === credentialsKey)
        .flatMap((policy) =>
          policy.statements.map((statement) => [actionsOf(statement), statement.Principal]),
        ),
    ).toEqual([[['kms:*'], { AWS: expect.anything() }]]);
    const [statements] = keyPolicies
      .filter((policy) => policy.holder !== credentialsKey)
      .map((policy) => policy.statements);
    expect(statements?.map((statement) => [actionsOf(statement), statement.Principal])).toEqual([
      [['kms:*'], { AWS: expect.anything() }],
      [['kms:Decrypt', 'kms:GenerateDataKey*'], { Service: 'cloudwatch.amazonaws.com' }],
    ]);
  });

  it("attaches no AWS managed policy but the API Gateway logging role's and BucketDeployment's", () => {
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
      ...bucketDeploymentRoles(synthesized.json).map((id) => [
        id,
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
          ],
        },
      ]),
    ]);
    expect(bucketDeploymentRoles(synthesized.json)).toHaveLength(1);
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

  it('has exactly the Step Functions actions its service uses', () => {
    expect(granted(statements(), 'states:')).toEqual(new Set(RESOURCE_ACCESS[resource].workflows));
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
  const machines = () => [...synthesized.stack.workflows.stateMachines.values()].map(logicalIdOf);
  const statementsOfFunction = (resource: 'deployments' | 'tasks') =>
    roleStatements(
      synthesized.json,
      logicalIdOf(
        defined(
          defined(synthesized.stack.apiFunctions.functions.get(resource), resource).role,
          `${resource} role`,
        ),
      ),
    );

  it.each(['deployments', 'tasks'] as const)('%s starts executions of the two state machines', (resource) => {
    const start = statementsOfFunction(resource).find((statement) =>
      actionsOf(statement).includes('states:StartExecution'),
    );
    expect(start?.Action).toBe('states:StartExecution');
    expect(start?.Resource).toEqual(machines().map((id) => ({ Ref: id })));
  });

  it.each(['deployments', 'tasks'] as const)(
    '%s stops (a cancel; a retry a cancel overtook) only executions of those state machines',
    (resource) => {
      const stop = statementsOfFunction(resource).find((statement) =>
        actionsOf(statement).includes('states:StopExecution'),
      );
      expect(stop?.Action).toBe('states:StopExecution');
      expect(stop?.Resource).toEqual(
        machines().map((id) => ({
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
      expect(granted(statementsOfFunction(resource), 'states:')).toEqual(
        new Set(['states:StartExecution', 'states:StopExecution']),
      );
    },
  );

  it("no function reads executions (DescribeExecution): deployment status is the table's", () => {
    for (const [resource, fn] of synthesized.stack.apiFunctions.functions) {
      const statements = roleStatements(synthesized.json, logicalIdOf(defined(fn.role, resource)));
      expect(granted(statements, 'states:').has('states:DescribeExecution'), resource).toBe(false);
    }
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
  it('consumes the task queue, answers task tokens, writes task logs and access records, reads stored credentials, nothing else', () => {
    const properties = propertiesOfConstruct(synthesized, synthesized.stack.agents.policy);
    const queue = logicalIdOf(synthesized.stack.taskQueue.queue);
    const machines = [...synthesized.stack.workflows.stateMachines.values()].map((machine) => ({
      Ref: logicalIdOf(machine),
    }));
    expect(statementsOf(properties?.PolicyDocument)).toEqual([
      {
        Sid: 'ConsumeTaskQueue',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
        Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
      },
      {
        Sid: 'AnswerTaskTokens',
        Effect: 'Allow',
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        Resource: machines,
      },
      {
        Sid: 'WriteTaskLogs',
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.data.table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TASKLOG#*', 'CREDACCESS#*'] } },
      },
      {
        Sid: 'ReadStoredCredentials',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: expect.anything(),
      },
      {
        Sid: 'DecryptStoredCredentials',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.credentials.key), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
      },
    ]);
  });

  it('is attached to nobody: the operator attaches it to the agents', () => {
    const properties = propertiesOfConstruct(synthesized, synthesized.stack.agents.policy);
    expect(properties?.Roles).toBeUndefined();
    expect(properties?.Users).toBeUndefined();
  });
});
