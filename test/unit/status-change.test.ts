import type { AttributeValue, Context, DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../lambdas/handlers/status-metrics';
import { SERVICE_NAME } from '../../lambdas/metrics/catalogue';
import { metricsFromStreamRecord } from '../../lambdas/store/status-stream-metrics';

type Item = Record<string, string | null>;

const image = (item: Item): Record<string, AttributeValue> =>
  Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, value === null ? { NULL: true } : { S: value }]),
  );

const record = (
  eventName: DynamoDBRecord['eventName'],
  before: Item | undefined,
  after: Item,
): DynamoDBRecord => ({
  eventName,
  dynamodb: {
    NewImage: image(after),
    ...(before ? { OldImage: image(before) } : {}),
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});

const deployment = (status: string): Item => ({ pk: 'DEPLOYMENT#dep_1', sk: 'DEPLOYMENT', status });

const task = (status: string, started: string | null, completed: string | null): Item => ({
  pk: 'TASK#task_1',
  sk: 'TASK',
  type: 'health_check',
  status,
  started_at: started,
  completed_at: completed,
});

describe('metricsFromStreamRecord', () => {
  it('counts a deployment that becomes success', () => {
    expect(metricsFromStreamRecord(record('MODIFY', deployment('running'), deployment('success')))).toEqual([
      { name: 'DeploymentsSucceeded', value: 1, dimensions: {} },
    ]);
  });

  it('counts a deployment that becomes failed, cancelled or not', () => {
    expect(metricsFromStreamRecord(record('MODIFY', deployment('pending'), deployment('failed')))).toEqual([
      { name: 'DeploymentsFailed', value: 1, dimensions: {} },
    ]);
  });

  it('counts a retried deployment once more when it ends, not when it resumes', () => {
    expect(metricsFromStreamRecord(record('MODIFY', deployment('failed'), deployment('running')))).toEqual(
      [],
    );
    expect(
      metricsFromStreamRecord(record('MODIFY', deployment('running'), deployment('success'))),
    ).toHaveLength(1);
  });

  it('ignores a write that leaves a final status unchanged', () => {
    expect(metricsFromStreamRecord(record('MODIFY', deployment('failed'), deployment('failed')))).toEqual([]);
  });

  it('ignores statuses that are not final', () => {
    expect(metricsFromStreamRecord(record('MODIFY', deployment('pending'), deployment('running')))).toEqual(
      [],
    );
    expect(metricsFromStreamRecord(record('INSERT', undefined, deployment('pending')))).toEqual([]);
  });

  it('ignores removals and items that are neither deployments nor tasks', () => {
    expect(
      metricsFromStreamRecord({ ...record('REMOVE', deployment('running'), deployment('success')) }),
    ).toEqual([]);
    const version = { pk: 'VERSION#ver_1', sk: 'VERSION', status: 'success' };
    expect(metricsFromStreamRecord(record('MODIFY', { ...version, status: 'x' }, version))).toEqual([]);
  });

  it('reports the duration of a task that succeeds, by task type', () => {
    const before = task('running', '2024-01-01T00:00:00.000Z', null);
    const after = task('success', '2024-01-01T00:00:00.000Z', '2024-01-01T00:01:30.250Z');
    expect(metricsFromStreamRecord(record('MODIFY', before, after))).toEqual([
      { name: 'TaskDuration', value: 90_250, dimensions: { TaskType: 'health_check' } },
    ]);
  });

  it('reports the duration of a task that fails', () => {
    const before = task('running', '2024-01-01T00:00:00Z', null);
    const after = task('failed', '2024-01-01T00:00:00Z', '2024-01-01T00:00:02Z');
    expect(metricsFromStreamRecord(record('MODIFY', before, after))).toEqual([
      { name: 'TaskDuration', value: 2_000, dimensions: { TaskType: 'health_check' } },
    ]);
  });

  it('reports no duration for a task failed before it started (a cancellation)', () => {
    const after = task('failed', null, '2024-01-01T00:00:02Z');
    expect(metricsFromStreamRecord(record('MODIFY', task('pending', null, null), after))).toEqual([]);
  });

  it('reports no duration from unreadable or reversed timestamps', () => {
    const reversed = task('success', '2024-01-01T00:00:05Z', '2024-01-01T00:00:00Z');
    const garbled = task('success', 'yesterday', '2024-01-01T00:00:00Z');
    expect(metricsFromStreamRecord(record('MODIFY', task('running', null, null), reversed))).toEqual([]);
    expect(metricsFromStreamRecord(record('MODIFY', task('running', null, null), garbled))).toEqual([]);
  });

  it('never throws on a record without images', () => {
    expect(metricsFromStreamRecord({ eventName: 'MODIFY' })).toEqual([]);
    expect(metricsFromStreamRecord({})).toEqual([]);
  });
});

describe('status-metrics handler', () => {
  const context = {
    functionName: 'status-metrics',
    awsRequestId: 'request-1',
    getRemainingTimeInMillis: () => 10_000,
  } as Context;

  it('writes one embedded-metric-format record per metric, in the service namespace', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const finished = task('success', '2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z');
    await handler(
      {
        Records: [
          record('MODIFY', deployment('running'), deployment('success')),
          record('MODIFY', task('running', null, null), finished),
          record('MODIFY', deployment('pending'), deployment('running')),
        ],
      },
      context,
    );
    const emf = lines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.ColdStart === undefined);
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'DeployManager', Dimensions: [['service']] }] },
      service: SERVICE_NAME,
      DeploymentsSucceeded: 1,
    });
    expect(emf[1]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'TaskType']] }] },
      TaskType: 'health_check',
      TaskDuration: 1000,
    });
  });
});
