import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type middy from '@middy/core';
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
 * X-Ray tracing of the handler; a no-op outside Lambda (tests, the local runtime). Wrap SDK
 * clients with `tracer.captureAWSv3Client(client)` to see DynamoDB / Step Functions calls as
 * subsegments.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

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

type PowertoolsMiddleware = ReturnType<typeof captureLambdaHandler>;
type Phase = 'before' | 'after' | 'onError';

/**
 * Logger context (request id, cold start, function name), an X-Ray segment per invocation,
 * a ColdStart metric and the flush of buffered metrics, as one middleware. `before` runs the
 * parts in order and `after` / `onError` in reverse, as middy would if they were used one by one.
 */
export function observability<TEvent, TResult>(): middy.MiddlewareObj<TEvent, TResult> {
  const parts: readonly PowertoolsMiddleware[] = [
    injectLambdaContext(logger),
    // Responses can carry user e-mails and are large: keep them out of trace metadata.
    captureLambdaHandler(tracer, { captureResponse: false }),
    logMetrics(metrics, { captureColdStartMetric: true }),
  ];
  const run = (phase: Phase, order: readonly PowertoolsMiddleware[]) => async (request: unknown) => {
    for (const part of order) {
      // middy's request has the shape Powertools declares; its own type is generic over TEvent.
      await part[phase]?.(request as Parameters<NonNullable<PowertoolsMiddleware[Phase]>>[0]);
    }
  };
  const reversed = [...parts].reverse();
  return { before: run('before', parts), after: run('after', reversed), onError: run('onError', reversed) };
}

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
