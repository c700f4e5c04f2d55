import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  BUSINESS_METRICS,
  type BusinessMetricName,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
  SERVICE_NAME,
} from '../lambdas/metrics/catalogue';
import { timeoutSecondsOf, WORKFLOW_TEMPLATES } from '../lambdas/workflow/templates';
import { pascalCase } from './naming';
import type { TaskQueue } from './task-queue';

/** Alarm thresholds, named so the runbook can quote them. */
export const ALARM_THRESHOLDS = {
  /** share of API requests answered 5XX over 5 minutes, twice in 15 minutes */
  apiServerErrorRate: 0.05,
  /**
   * Age of the oldest task message. A message stays in the queue while its agent works (the
   * agent deletes it once it has answered), so the threshold is the longest time limit of any
   * task step, plus 15 minutes: older, no task can still be using it.
   */
  taskQueueOldestMessageSeconds:
    Math.max(
      ...Object.values(WORKFLOW_TEMPLATES).flatMap((template) => template.steps.map(timeoutSecondsOf)),
    ) +
    15 * 60,
  /** task messages visible (received by no agent) without a break for this many 5-minute periods */
  taskQueueWaitingPeriods: 3,
} as const;

export interface ObservabilityProps {
  readonly api: RestApi;
  readonly functions: ReadonlyMap<string, IFunction>;
  readonly stateMachines: ReadonlyMap<string, StateMachine>;
  readonly taskQueue: TaskQueue;
  readonly alarmEmail: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms for what an operator must act on, sent to one encrypted SNS topic, and a dashboard
 * of the API, the functions, the workflows, the task queue and the business metrics.
 */
export class Observability extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props.removalPolicy);
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const stage = props.api.deploymentStage;
    const apiServerErrors = stage.metricServerError({ statistic: 'Average', period: FIVE_MINUTES });
    this.alarm('Api5xxRate', {
      metric: apiServerErrors,
      threshold: ALARM_THRESHOLDS.apiServerErrorRate,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `More than ${ALARM_THRESHOLDS.apiServerErrorRate * 100}% of API requests answered 5XX in two of the last three 5-minute periods.`,
    });

    for (const [name, fn] of props.functions) {
      this.alarm(`${pascalCase(name)}Errors`, {
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 0,
        description: `The ${name} function failed (crash, timeout or failed start): handled API errors do not count.`,
      });
      this.alarm(`${pascalCase(name)}Throttles`, {
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 0,
        description: `The ${name} function was throttled: the account's Lambda concurrency is exhausted.`,
      });
    }

    for (const [name, machine] of props.stateMachines) {
      this.alarm(`Workflow${pascalCase(name)}ExecutionsFailed`, {
        metric: machine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 0,
        description: `An execution of the ${name} workflow failed: a deployment failed (a task failed; the execution's error is DeploymentFailed) or the workflow itself broke (any other error). Cancellations are aborts, not failures.`,
      });
      this.alarm(`Workflow${pascalCase(name)}ExecutionsTimedOut`, {
        metric: machine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 0,
        description: `An execution of the ${name} workflow timed out.`,
      });
    }

    const { queue, deadLetterQueue } = props.taskQueue;
    this.alarm('TaskDeadLetters', {
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      threshold: 0,
      description:
        'Task messages reached the dead-letter queue: agents received them 5 times without deleting them.',
    });
    this.alarm('TaskQueueWaiting', {
      // Minimum over each period: a message was waiting at every sample, for the whole period.
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Minimum' }),
      threshold: 0,
      evaluationPeriods: ALARM_THRESHOLDS.taskQueueWaitingPeriods,
      datapointsToAlarm: ALARM_THRESHOLDS.taskQueueWaitingPeriods,
      description: `Task messages have waited ${ALARM_THRESHOLDS.taskQueueWaitingPeriods * 5} minutes without a break: no agent is taking work, or too few for the load.`,
    });
    this.alarm('TaskQueueStale', {
      metric: queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: ALARM_THRESHOLDS.taskQueueOldestMessageSeconds,
      description: `A task message is over ${ALARM_THRESHOLDS.taskQueueOldestMessageSeconds / 60} minutes old, longer than any task may run: an agent is not deleting the messages it answered, or none takes work.`,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: '# deploy-manager\nAPI · functions · workflows · task queue · business metrics',
        width: 24,
        height: 1,
      }),
    );
    this.dashboard.addWidgets(
      graph('API requests', [stage.metricCount({ statistic: 'Sum' })]),
      graph('API errors', [
        stage.metricClientError({ statistic: 'Sum' }),
        stage.metricServerError({ statistic: 'Sum' }),
      ]),
      graph('API latency (ms)', [
        stage.metricLatency({ statistic: 'p50' }),
        stage.metricLatency({ statistic: 'p99' }),
        stage.metricIntegrationLatency({ statistic: 'p99' }),
      ]),
    );
    const fns = [...props.functions];
    this.dashboard.addWidgets(
      graph(
        'Invocations',
        fns.map(([name, fn]) => fn.metricInvocations({ label: name, statistic: 'Sum' })),
      ),
      graph(
        'Errors and throttles',
        fns.flatMap(([name, fn]) => [
          fn.metricErrors({ label: `${name} errors`, statistic: 'Sum' }),
          fn.metricThrottles({ label: `${name} throttles`, statistic: 'Sum' }),
        ]),
      ),
      graph(
        'Duration p99 (ms)',
        fns.map(([name, fn]) => fn.metricDuration({ label: name, statistic: 'p99' })),
      ),
    );
    const machines = [...props.stateMachines];
    this.dashboard.addWidgets(
      graph(
        'Workflow executions',
        machines.flatMap(([name, machine]) => [
          machine.metricStarted({ label: `${name} started`, statistic: 'Sum' }),
          machine.metricSucceeded({ label: `${name} succeeded`, statistic: 'Sum' }),
          machine.metricFailed({ label: `${name} failed`, statistic: 'Sum' }),
          machine.metricTimedOut({ label: `${name} timed out`, statistic: 'Sum' }),
          machine.metricAborted({ label: `${name} aborted`, statistic: 'Sum' }),
        ]),
      ),
      graph(
        'Workflow duration p90 (ms)',
        machines.map(([name, m]) => m.metricTime({ label: name, statistic: 'p90' })),
      ),
      graph('Task queue', [
        queue.metricApproximateNumberOfMessagesVisible({ label: 'waiting', statistic: 'Maximum' }),
        queue.metricApproximateNumberOfMessagesNotVisible({ label: 'in progress', statistic: 'Maximum' }),
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          label: 'dead letters',
          statistic: 'Maximum',
        }),
        queue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)', statistic: 'Maximum' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Deployments', [
        businessMetric('DeploymentsCreated', 'Sum'),
        businessMetric('DeploymentsSucceeded', 'Sum'),
        businessMetric('DeploymentsFailed', 'Sum'),
        businessMetric('DeploymentCancelled', 'Sum'),
      ]),
      graph('Task retries by type', [businessMetric('TaskRetried', 'Sum')]),
      graph('Task duration p90 by type (ms)', [businessMetric('TaskDuration', 'p90')]),
    );
  }

  private alarmTopic(removalPolicy: RemovalPolicy): Topic {
    const stack = Stack.of(this);
    const alarmArns = `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`;
    // SNS encryption needs a customer managed key: CloudWatch may not use the AWS managed
    // aws/sns key, so this key lets CloudWatch alarms of this account, and nothing else, encrypt.
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'deploy-manager alarm topic encryption',
      enableKeyRotation: true,
      removalPolicy,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsEncrypt',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': alarmArns },
        },
      }),
    );
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'deploy-manager alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy that enforces TLS replaces SNS's default one: allow the alarms explicitly.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': alarmArns },
        },
      }),
    );
    return topic;
  }

  private alarm(
    id: string,
    options: {
      metric: IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      // `<stack>-<id>`: the name an operator reads in the notification and finds in the runbook.
      alarmName: `${Stack.of(this).stackName}-${id}`,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm ?? 1,
      // No data means no traffic, not trouble.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `${options.description} See "Operating it" in the README.`,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
  }
}

function graph(title: string, metrics: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left: metrics, width: 8, height: 6, period: FIVE_MINUTES });
}

/**
 * A business metric for the dashboard: a plain metric when it has no dimension of its own,
 * otherwise a SEARCH that draws one line per value (each strategy, each task type).
 */
function businessMetric(name: BusinessMetricName, statistic: string): IMetric {
  const dimensions: readonly string[] = BUSINESS_METRICS[name].dimensions;
  if (dimensions.length === 0) {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME },
      statistic,
      period: FIVE_MINUTES,
      label: name,
    });
  }
  const schema = [METRICS_NAMESPACE, SERVICE_DIMENSION, ...dimensions].join(',');
  return new MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${name}"', '${statistic}', ${FIVE_MINUTES.toSeconds()})`,
    usingMetrics: {},
    label: name,
    period: FIVE_MINUTES,
  });
}
