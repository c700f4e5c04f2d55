import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENTITY } from '../lambdas/store/keys';
import type { LogLevel } from './config';
import type { DataTable } from './data-table';
import { ServiceFunction } from './functions';

/** The handler file of the consumer: `lambdas/handlers/status-metrics.ts`. */
export const STATUS_METRICS_HANDLER = 'status-metrics';

export interface StatusMetricsProps {
  readonly table: DataTable;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly logLevel: LogLevel;
}

/**
 * The table-stream consumer that counts finished deployments and times finished tasks
 * (`lambdas/handlers/status-metrics.ts`). It reads the stream and nothing else.
 */
export class StatusMetrics extends Construct {
  readonly function: ServiceFunction;

  constructor(scope: Construct, id: string, props: StatusMetricsProps) {
    super(scope, id);
    this.function = new ServiceFunction(this, 'Function', {
      handler: STATUS_METRICS_HANDLER,
      description: 'deploy-manager: business metrics from deployment and task status changes',
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      logLevel: props.logLevel,
    });
    this.function.addEventSource(
      new DynamoEventSource(props.table.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        // Metrics are worth little once stale: a failing batch is retried briefly, then skipped
        // so it never holds the shard back.
        retryAttempts: 2,
        maxRecordAge: Duration.hours(1),
        bisectBatchOnError: true,
        // Only deployments and tasks arriving at a final status invoke the function at all.
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: {
              NewImage: {
                sk: { S: FilterRule.or(ENTITY.deployment, ENTITY.task) },
                status: { S: FilterRule.or('success', 'failed') },
              },
            },
          }),
        ],
      }),
    );
  }
}
