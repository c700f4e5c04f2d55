import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { INDEX_LIST, TABLE_KEYS, TTL_ATTRIBUTE } from '../../lambdas/store/table-definition';
import { heartbeatSecondsOf, timeoutSecondsOf, WORKFLOW_TEMPLATES } from '../../lambdas/workflow';
import { MAX_RECEIVE_COUNT, TASK_VISIBILITY_TIMEOUT } from '../../lib/task-queue';
import { logicalIdOf, propertiesOfConstruct, type Synthesized, synthesize } from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

const allSteps = Object.values(WORKFLOW_TEMPLATES).flatMap((template) => template.steps);

describe('the table', () => {
  it('is built from lambdas/store/table-definition.ts', () => {
    synthesized.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: INDEX_LIST.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
      AttributeDefinitions: Match.arrayWith(
        [TABLE_KEYS.partitionKey, ...INDEX_LIST.map((index) => index.sortKey)].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    });
  });

  it('is on-demand, point-in-time recoverable, encrypted, with TTL and a stream of both images', () => {
    synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('is retained, and protected from deletion, unless destroyOnRemoval is set', () => {
    synthesized.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });
});

describe('the task queue', () => {
  const queue = () => propertiesOfConstruct(synthesized, synthesized.stack.taskQueue.queue);
  const dlq = () => propertiesOfConstruct(synthesized, synthesized.stack.taskQueue.deadLetterQueue);

  it('sends a message to its dead-letter queue after 5 receives', () => {
    expect(queue()).toMatchObject({
      RedrivePolicy: {
        maxReceiveCount: MAX_RECEIVE_COUNT,
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalIdOf(synthesized.stack.taskQueue.deadLetterQueue), 'Arn'],
        },
      },
    });
    expect(MAX_RECEIVE_COUNT).toBe(5);
  });

  it('encrypts both queues at rest and refuses unencrypted transport', () => {
    expect(queue()).toMatchObject({ SqsManagedSseEnabled: true });
    expect(dlq()).toMatchObject({ SqsManagedSseEnabled: true });
    for (const construct of [
      synthesized.stack.taskQueue.queue,
      synthesized.stack.taskQueue.deadLetterQueue,
    ]) {
      synthesized.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(construct) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('keeps dead letters 14 days', () => {
    expect(dlq()).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('hides a received message longer than any step lets an agent go without a heartbeat', () => {
    const longestHeartbeat = Math.max(...allSteps.map(heartbeatSecondsOf));
    expect(queue()).toMatchObject({ VisibilityTimeout: 900 });
    expect(TASK_VISIBILITY_TIMEOUT.toSeconds()).toBeGreaterThan(longestHeartbeat);
  });

  it('keeps task messages longer than any step may run', () => {
    const retention = queue()?.MessageRetentionPeriod;
    expect(retention).toBeGreaterThan(Math.max(...allSteps.map(timeoutSecondsOf)));
  });
});
