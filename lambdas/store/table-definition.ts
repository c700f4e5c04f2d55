import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table of the service. The CDK stack, the tests and the local runtime all build
 * the table from this description, so the key design lives in exactly one place.
 * See docs/data-model.md for the access patterns each index serves.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export const INDEXES = {
  /** every item of one entity type, newest first */
  byType: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** first list filter of an entity (versions/applications by repository, environments by type, deployments by environment, tasks by deployment) */
  byFilter1: { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** second list filter (applications by type, environments by is_active, deployments and tasks by status) */
  byFilter2: { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  /** third list filter (deployments by version, tasks by type) */
  byFilter3: { indexName: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
} as const satisfies Record<string, IndexDefinition>;

export const INDEX_LIST: readonly IndexDefinition[] = Object.values(INDEXES);

/**
 * Epoch-seconds attribute DynamoDB TTL deletes by. No item sets it today: every entity is kept
 * until deleted through the API. TTL is enabled on the table so that a future expiring item
 * (an idempotency marker, say) needs no table replacement.
 */
export const TTL_ATTRIBUTE = 'expires_at';

export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyAttributes = [
    TABLE_KEYS.partitionKey,
    TABLE_KEYS.sortKey,
    ...INDEX_LIST.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
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
  };
}
