import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_CLIENT_ID_VARIABLE } from '../../lambdas/http/auth';
import { BUSINESS_METRICS, METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/metrics/catalogue';
import { apiResources } from '../../lib/api-functions';
import { ALARM_THRESHOLDS } from '../../lib/observability';
import {
  defined,
  logicalIdOf,
  propertiesOfConstruct,
  resourcesOf,
  type Synthesized,
  synthesize,
} from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

const allFunctions = () => [
  ...synthesized.stack.apiFunctions.functions.values(),
  synthesized.stack.statusMetrics.function,
];

describe('the functions', () => {
  it("are one per REST resource of ROUTES, plus the status-metrics consumer and the console's publisher", () => {
    expect([...synthesized.stack.apiFunctions.functions.keys()]).toEqual(apiResources());
    // CDK's BucketDeployment copies the console's build to its bucket with one function.
    synthesized.template.resourceCountIs('AWS::Lambda::Function', apiResources().length + 2);
  });

  it('run Node.js 24 on ARM64, traced, logging JSON to their own log group with a retention', () => {
    for (const fn of allFunctions()) {
      const properties = propertiesOfConstruct(synthesized, fn);
      expect(properties, fn.node.path).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logicalIdOf(fn.functionLogGroup) } },
      });
      expect(propertiesOfConstruct(synthesized, fn.functionLogGroup)).toMatchObject({
        RetentionInDays: 30,
      });
    }
  });

  it('configure Powertools and source-mapped stack traces', () => {
    for (const fn of allFunctions()) {
      expect(propertiesOfConstruct(synthesized, fn).Environment, fn.node.path).toMatchObject({
        Variables: {
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      });
    }
  });

  it('know the table, and the workflow callers know both state machines by strategy', () => {
    const table = logicalIdOf(synthesized.stack.data.table);
    for (const [resource, fn] of synthesized.stack.apiFunctions.functions) {
      const { Environment } = propertiesOfConstruct(synthesized, fn);
      const variables = (Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.TABLE_NAME).toEqual({ Ref: table });
      const machines = variables.STATE_MACHINE_ARNS;
      if (resource === 'deployments' || resource === 'tasks') {
        const text = JSON.stringify(machines);
        for (const [strategy, machine] of synthesized.stack.workflows.stateMachines) {
          expect(text).toContain(`\\"${strategy}\\":\\"`);
          expect(text).toContain(JSON.stringify({ Ref: logicalIdOf(machine) }));
        }
      } else {
        expect(machines).toBeUndefined();
      }
    }
  });
});

describe('the status-metrics consumer', () => {
  it('reads the table stream, only deployments and tasks reaching a final status', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.data.table), 'StreamArn'] },
      FunctionName: { Ref: logicalIdOf(synthesized.stack.statusMetrics.function) },
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT', 'MODIFY'],
              dynamodb: {
                NewImage: { sk: { S: ['DEPLOYMENT', 'TASK'] }, status: { S: ['success', 'failed'] } },
              },
            }),
          },
        ],
      },
    });
  });
});

describe('the alarms', () => {
  const alarms = () =>
    resourcesOf(synthesized.json, 'AWS::CloudWatch::Alarm').map(([, alarm]) =>
      defined(alarm.Properties, 'alarm'),
    );
  const topic = () => ({ Ref: logicalIdOf(synthesized.stack.observability.topic) });

  it('all notify the alarm topic, and again when they recover', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([topic()]);
      expect(alarm.OKActions).toEqual([topic()]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
      expect(String(alarm.AlarmDescription)).toContain('README');
    }
  });

  it('watch the API 5XX rate', () => {
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Average',
      Threshold: 0.05,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Dimensions: Match.arrayWith([{ Name: 'Stage', Value: Match.anyValue() }]),
    });
  });

  it("watch every function's errors and throttles", () => {
    for (const fn of allFunctions()) {
      for (const metric of ['Errors', 'Throttles']) {
        synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(fn) } }],
          Threshold: 0,
        });
      }
    }
  });

  it('watch failed and timed-out executions of every state machine', () => {
    for (const machine of synthesized.stack.workflows.stateMachines.values()) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
        synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/States',
          MetricName: metric,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalIdOf(machine) } }],
          Threshold: 0,
        });
      }
    }
  });

  it('watch the dead-letter queue and the age of the oldest task message', () => {
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.taskQueue.deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
    });
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.taskQueue.queue), 'QueueName'] },
        },
      ],
      Threshold: ALARM_THRESHOLDS.taskQueueOldestMessageSeconds,
    });
    // A message lives while its agent works: only one older than the longest task is stale.
    expect(ALARM_THRESHOLDS.taskQueueOldestMessageSeconds).toBe(75 * 60);
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${synthesized.stack.stackName}-TaskQueueWaiting`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.taskQueue.queue), 'QueueName'] },
        },
      ],
    });
  });

  it('go to an encrypted topic that refuses unencrypted transport, with no subscription unless alarmEmail is set', () => {
    synthesized.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmTopicKey'), 'Arn'] },
    });
    synthesized.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
          }),
        ]),
      },
    });
    synthesized.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    synthesized.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('the dashboard', () => {
  const body = () => {
    const dashboard = resourcesOf(synthesized.json, 'AWS::CloudWatch::Dashboard')[0]?.[1];
    return JSON.stringify(dashboard?.Properties?.DashboardBody);
  };

  it('graphs the API, the functions, the workflows and the queue', () => {
    for (const metric of [
      '5XXError',
      'Latency',
      'Invocations',
      'Throttles',
      'ExecutionsFailed',
      'ApproximateAgeOfOldestMessage',
    ]) {
      expect(body()).toContain(metric);
    }
  });

  it('graphs every business metric', () => {
    for (const name of Object.keys(BUSINESS_METRICS)) expect(body()).toContain(name);
    expect(body()).toContain(METRICS_NAMESPACE);
  });
});

describe('the log groups', () => {
  it('all have the default 30-day retention and outlive the stack', () => {
    const groups = resourcesOf(synthesized.json, 'AWS::Logs::LogGroup');
    // each function's, each state machine's, and the API's access and execution logs
    expect(groups).toHaveLength(allFunctions().length + synthesized.stack.workflows.stateMachines.size + 2);
    for (const [id, group] of groups) {
      expect(group.Properties?.RetentionInDays, id).toBe(30);
      expect(group.DeletionPolicy, id).toBe('Retain');
    }
  });
});

describe('the API functions', () => {
  it("accept ID tokens of the stack's own app clients only (the CLI's and the console's)", () => {
    const client = logicalIdOf(synthesized.stack.users.client);
    const consoleClient = logicalIdOf(synthesized.stack.consoleSignIn.client);
    for (const fn of synthesized.stack.apiFunctions.functions.values()) {
      expect(propertiesOfConstruct(synthesized, fn).Environment).toMatchObject({
        Variables: {
          [API_CLIENT_ID_VARIABLE]: { 'Fn::Join': [',', [{ Ref: client }, { Ref: consoleClient }]] },
        },
      });
    }
  });
});

describe('the outputs', () => {
  it('give everything the README needs to use the deployment', () => {
    const outputs = Object.keys(synthesized.json.Outputs ?? {});
    // exactly the documented ones (docs/operations.md, Outputs): no CDK-generated extra
    expect(outputs.sort()).toEqual(
      [
        'ApiUrl',
        'ConsoleUrl',
        'UserPoolId',
        'UserPoolClientId',
        'TableName',
        'TaskQueueUrl',
        'DeadLetterQueueUrl',
        'AgentPolicyArn',
        'EnvironmentCredentialsPrefix',
        'DashboardName',
        'AlarmTopicArn',
        'StateMachineArnStandard',
        'StateMachineArnBlueGreen',
      ].sort(),
    );
  });
});
