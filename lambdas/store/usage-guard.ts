import { InUse } from '../domain/errors';
import { ENTITY, filterPartition, STATUS_INDEX } from './keys';
import { queryPages } from './query-pages';
import type { StoreContext } from './store-context';

const UNFINISHED = ['pending', 'running'] as const;

export type ResourceKind = 'version' | 'application' | 'environment';

/** Refuses (InUse) when an unfinished deployment uses the thing about to be deleted. */
export interface UsageGuard {
  assertUnused(kind: ResourceKind, id: string): Promise<void>;
}

const CONDITION: Record<ResourceKind, { expression: string; attribute: string }> = {
  version: { expression: '#attribute = :id', attribute: 'version_id' },
  application: { expression: 'contains(#attribute, :id)', attribute: 'application_ids' },
  environment: { expression: '#attribute = :id', attribute: 'environment_id' },
};

/**
 * Finds unfinished deployments that use a version, application or environment. It reads
 * only the `pending` and `running` partitions of the deployments-by-status index, which
 * stay small (at most one unfinished deployment per environment).
 */
export function createUsageGuard(context: StoreContext): UsageGuard {
  return {
    async assertUnused(kind, id) {
      for (const status of UNFINISHED) {
        const pages = queryPages(context, {
          TableName: context.tableName,
          IndexName: STATUS_INDEX.indexName,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: CONDITION[kind].expression,
          ExpressionAttributeNames: {
            '#pk': STATUS_INDEX.partitionKey,
            '#attribute': CONDITION[kind].attribute,
          },
          ExpressionAttributeValues: {
            ':pk': filterPartition(ENTITY.deployment, 'status', status),
            ':id': id,
          },
          ProjectionExpression: 'id',
        });
        for await (const page of pages) {
          const [first] = page.Items ?? [];
          if (first) throw new InUse(kind, id, String(first.id));
        }
      }
    },
  };
}
