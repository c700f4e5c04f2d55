import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { logger } from './logger';
import { metrics } from './metrics';
import { tracer } from './tracer';

/**
 * Logger context (request id, cold start, function name), an X-Ray segment per invocation,
 * a ColdStart metric and the flush of buffered metrics: Powertools' middlewares, in the order
 * middy runs them (`use([...])`: `before` first to last, `after` / `onError` last to first).
 */
export const observability = () => [
  injectLambdaContext(logger),
  // Responses can carry user e-mails and are large: keep them out of trace metadata.
  captureLambdaHandler(tracer, { captureResponse: false }),
  logMetrics(metrics, { captureColdStartMetric: true }),
];
