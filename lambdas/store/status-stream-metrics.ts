import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { DeploymentStatus } from '../domain/deployment';
import type { TaskStatus } from '../domain/task';
import type { BusinessMetricDatum } from '../metrics/catalogue';
import { ENTITY } from './keys';

type Image = Readonly<Record<string, AttributeValue>>;
type FinalStatus = Extract<DeploymentStatus & TaskStatus, 'success' | 'failed'>;

const DEPLOYMENT_OUTCOME = {
  success: 'DeploymentsSucceeded',
  failed: 'DeploymentsFailed',
} as const satisfies Record<FinalStatus, BusinessMetricDatum['name']>;

const isFinal = (status: string | undefined): status is FinalStatus =>
  status === 'success' || status === 'failed';

const text = (image: Image | undefined, name: string): string | undefined => image?.[name]?.S;

/**
 * The business metrics one table-stream record stands for. A deployment counts once each
 * time its `status` changes to success or failed; a task reports its duration each time it
 * reaches success or failed having started (a task failed by a cancellation before it ran
 * has no duration). Anything else (other items, unchanged status, removals) is no metric.
 *
 * Total on purpose: the stream consumer must never fail on an odd record, because a failing
 * batch would be retried and block the shard behind it.
 */
export function metricsFromStreamRecord(record: DynamoDBRecord): BusinessMetricDatum[] {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return [];
  const newImage = record.dynamodb?.NewImage;
  const status = text(newImage, 'status');
  if (!isFinal(status) || status === text(record.dynamodb?.OldImage, 'status')) return [];

  switch (text(newImage, 'sk')) {
    case ENTITY.deployment:
      return [{ name: DEPLOYMENT_OUTCOME[status], value: 1, dimensions: {} }];
    case ENTITY.task:
      return taskDuration(newImage);
    default:
      return [];
  }
}

function taskDuration(image: Image | undefined): BusinessMetricDatum[] {
  const type = text(image, 'type');
  const started = Date.parse(text(image, 'started_at') ?? '');
  const completed = Date.parse(text(image, 'completed_at') ?? '');
  if (!type || Number.isNaN(started) || Number.isNaN(completed) || completed < started) return [];
  return [{ name: 'TaskDuration', value: completed - started, dimensions: { TaskType: type } }];
}
