import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { counterChanges, mergeCounterChanges } from './counters';
import { filterValuesOf } from './entity-table';
import { counterKey, ENTITY, type EntityName } from './keys';
import { queryPages } from './query-pages';
import type { StoreContext } from './store-context';
import { INDEXES } from './table-definition';

/**
 * Rebuilds every list counter from the items themselves: for a table written before the
 * counters of filter combinations (and of deployments and tasks) existed, or to repair one.
 * Run it while nothing writes (no deployment in flight): a write between the count and the
 * counter's Put would be lost from the total.
 */
export async function backfillCounters(context: StoreContext): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const entity of Object.values(ENTITY) as EntityName[]) {
    for await (const page of queryPages(context, {
      TableName: context.tableName,
      IndexName: INDEXES.byType.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': INDEXES.byType.partitionKey },
      ExpressionAttributeValues: { ':pk': entity },
    })) {
      const changes = mergeCounterChanges(
        (page.Items ?? []).flatMap((item) => counterChanges(entity, undefined, filterValuesOf(entity, item))),
      );
      for (const { partition, delta } of changes) counts.set(partition, (counts.get(partition) ?? 0) + delta);
    }
  }
  for (const [partition, count] of counts) {
    await context.client.send(
      new PutCommand({ TableName: context.tableName, Item: { ...counterKey(partition), count } }),
    );
  }
  return counts;
}
