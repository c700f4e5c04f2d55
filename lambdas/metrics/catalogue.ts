/**
 * The service's business metrics as data. The Lambda code emits them (through Powertools,
 * as CloudWatch embedded metric format) and the CDK dashboard graphs them, so their names,
 * units and dimensions are declared once, here, without importing any runtime library.
 */

/** CloudWatch namespace of every custom metric (POWERTOOLS_METRICS_NAMESPACE in the stack). */
export const METRICS_NAMESPACE = 'DeployManager';

/** POWERTOOLS_SERVICE_NAME; Powertools adds it to every metric as the `service` dimension. */
export const SERVICE_NAME = 'deploy-manager';

/** The dimension Powertools puts on every metric it emits. */
export const SERVICE_DIMENSION = 'service';

export interface BusinessMetricSpec {
  readonly unit: 'Count' | 'Milliseconds';
  /** dimensions beyond `service`; each emission names a value for each */
  readonly dimensions: readonly string[];
  /** who emits it: the API handlers, or the table-stream consumer that watches the workflows */
  readonly source: 'api' | 'stream';
  readonly description: string;
}

export const BUSINESS_METRICS = {
  DeploymentsCreated: {
    unit: 'Count',
    dimensions: ['Strategy'],
    source: 'api',
    description: 'deployments accepted by POST /deployments or a rollback',
  },
  DeploymentCancelled: {
    unit: 'Count',
    dimensions: [],
    source: 'api',
    description: 'deployments cancelled through the API',
  },
  TaskRetried: {
    unit: 'Count',
    dimensions: ['TaskType'],
    source: 'api',
    description: 'failed tasks sent back to pending by POST /tasks/{id}/retry',
  },
  DeploymentsSucceeded: {
    unit: 'Count',
    dimensions: [],
    source: 'stream',
    description: 'deployments whose status became success',
  },
  DeploymentsFailed: {
    unit: 'Count',
    dimensions: [],
    source: 'stream',
    description: 'deployments whose status became failed (cancellations included)',
  },
  TaskDuration: {
    unit: 'Milliseconds',
    dimensions: ['TaskType'],
    source: 'stream',
    description: 'time from started_at to completed_at of a task that finished',
  },
} as const satisfies Record<string, BusinessMetricSpec>;

export type BusinessMetricName = keyof typeof BUSINESS_METRICS;

export type DimensionName<N extends BusinessMetricName> = (typeof BUSINESS_METRICS)[N]['dimensions'][number];

/** One value for each of the metric's own dimensions, checked by the compiler. */
export type MetricDimensions<N extends BusinessMetricName> = { readonly [D in DimensionName<N>]: string };

/** One emission of one business metric. */
export type BusinessMetricDatum = {
  readonly [N in BusinessMetricName]: {
    readonly name: N;
    readonly value: number;
    readonly dimensions: MetricDimensions<N>;
  };
}[BusinessMetricName];
