import middy from '@middy/core';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { publishBusinessMetric } from '../observability/metrics';
import { observability } from '../observability/middleware';
import { metricsFromStreamRecord } from '../store/status-stream-metrics';

/**
 * Consumer of the table's stream: turns deployment and task status changes made by the
 * workflows into business metrics (EMF log lines), so counting them costs the state
 * machines nothing. The event source mapping only delivers deployment and task items
 * whose new status is final; `metricsFromStreamRecord` decides the rest.
 */
export const handler = middy<DynamoDBStreamEvent, void>()
  .use(observability())
  .handler(async (event) => {
    for (const record of event.Records) {
      for (const datum of metricsFromStreamRecord(record)) publishBusinessMetric(datum);
    }
  });
