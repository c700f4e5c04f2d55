import { Metrics } from '@aws-lambda-powertools/metrics';
import type { BusinessMetrics } from '../metrics/business-metrics';
import {
  BUSINESS_METRICS,
  type BusinessMetricDatum,
  type BusinessMetricName,
  METRICS_NAMESPACE,
  type MetricDimensions,
  SERVICE_NAME,
} from '../metrics/catalogue';
import { logger } from './logger';

/**
 * CloudWatch metrics as embedded metric format log lines (no PutMetricData call, no extra
 * permission). Its warnings go through a child logger at ERROR level: most API requests
 * record no metric, and "no application metrics to publish" after each of them would be noise.
 */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
  logger: logger.createChild({ logLevel: 'ERROR' }),
});

/**
 * Emits one business metric now, as its own EMF record: each metric has its own dimension
 * set, which must not mix with whatever else the invocation buffers.
 */
export function publishBusinessMetric(datum: BusinessMetricDatum): void {
  const single = metrics.singleMetric();
  for (const [name, value] of Object.entries(datum.dimensions)) single.addDimension(name, value);
  single.addMetric(datum.name, BUSINESS_METRICS[datum.name].unit, datum.value);
}

/** `recordBusinessMetric('TaskRetried', { TaskType: 'deploy' })`; dimensions are checked per metric. */
export function recordBusinessMetric<N extends BusinessMetricName>(
  name: N,
  dimensions: MetricDimensions<N>,
  value = 1,
): void {
  // The compiler cannot tie a generic N to its member of the datum union; the signature does.
  publishBusinessMetric({ name, dimensions, value } as BusinessMetricDatum);
}

/** The services' `BusinessMetrics` port, backed by CloudWatch. */
export const businessMetrics: BusinessMetrics = {
  deploymentCreated: (strategy) => recordBusinessMetric('DeploymentsCreated', { Strategy: strategy }),
  deploymentCancelled: () => recordBusinessMetric('DeploymentCancelled', {}),
  taskRetried: (taskType) => recordBusinessMetric('TaskRetried', { TaskType: taskType }),
};
