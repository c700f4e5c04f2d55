import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Page, PageRequest } from '../domain/common';
import { counterKey, type EntityName, FILTER_SLOTS, filterPartition, slotIndex } from './keys';
import type { StoreContext } from './store-context';
import { INDEXES } from './table-definition';

export type FilterValues = Readonly<Record<string, string | boolean | undefined>>;

export interface ListPlan {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly partition: string;
  /** Filters not served by the index, applied as a FilterExpression on its partition. */
  readonly residual: readonly (readonly [string, string | boolean])[];
}

/**
 * Picks the index for a filtered list: the first filter present (in FILTER_SLOTS order)
 * chooses its GSI partition; other filters narrow that partition. No filter: the whole
 * collection's partition. Never a Scan.
 */
export function planList(entity: EntityName, filters: FilterValues): ListPlan {
  const active = FILTER_SLOTS[entity].flatMap((attribute, slot) => {
    const value = filters[attribute];
    return value === undefined ? [] : [{ attribute, slot, value }];
  });
  const [first, ...rest] = active;
  const index = first ? slotIndex(first.slot) : undefined;
  if (!first || !index) {
    return {
      indexName: INDEXES.byType.indexName,
      partitionKey: INDEXES.byType.partitionKey,
      partition: entity,
      residual: [],
    };
  }
  return {
    indexName: index.indexName,
    partitionKey: index.partitionKey,
    partition: filterPartition(entity, first.attribute, first.value),
    residual: rest.map(({ attribute, value }) => [attribute, value] as const),
  };
}

function queryInput(context: StoreContext, plan: ListPlan): QueryCommandInput {
  const names: Record<string, string> = { '#pk': plan.partitionKey };
  const values: Record<string, unknown> = { ':pk': plan.partition };
  const conditions = plan.residual.map(([attribute, value], position) => {
    names[`#f${position}`] = attribute;
    values[`:f${position}`] = value;
    return `#f${position} = :f${position}`;
  });
  return {
    TableName: context.tableName,
    IndexName: plan.indexName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
    ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
  };
}

async function countMatches(context: StoreContext, plan: ListPlan, counted: boolean): Promise<number> {
  if (counted && plan.residual.length === 0) {
    const { Item } = await context.client.send(
      new GetCommand({ TableName: context.tableName, Key: counterKey(plan.partition) }),
    );
    return typeof Item?.count === 'number' ? Math.max(0, Item.count) : 0;
  }
  let total = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await context.client.send(
      new QueryCommand({ ...queryInput(context, plan), Select: 'COUNT', ExclusiveStartKey: startKey }),
    );
    total += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return total;
}

/**
 * One page of a list, newest first, with its total. Items before the page are read with
 * the smallest projection DynamoDB allows, so a deep page costs reads but little transfer.
 * `counted` entities keep a counter per partition (kept by entity-table.ts) so `total` is one read.
 */
export async function listPage<T>(
  context: StoreContext,
  entity: EntityName,
  filters: FilterValues,
  request: PageRequest,
  decode: (item: Record<string, unknown>) => T,
  counted: boolean,
): Promise<Page<T>> {
  const plan = planList(entity, filters);
  const base = queryInput(context, plan);
  let toSkip = (request.page - 1) * request.page_size;
  let startKey: Record<string, unknown> | undefined;
  const items: T[] = [];
  const totalPromise = countMatches(context, plan, counted);
  // Awaited below; this only keeps a failure from surfacing as an unhandled rejection first.
  totalPromise.catch(() => undefined);
  while (items.length < request.page_size) {
    const skipping = toSkip > 0;
    const limit = skipping ? toSkip : request.page_size - items.length;
    const page = await context.client.send(
      new QueryCommand({
        ...base,
        ExclusiveStartKey: startKey,
        ...(plan.residual.length === 0 ? { Limit: limit } : {}),
        ...(skipping && plan.residual.length === 0
          ? { ProjectionExpression: '#pk', ExpressionAttributeNames: base.ExpressionAttributeNames }
          : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      if (toSkip > 0) {
        toSkip -= 1;
      } else if (items.length < request.page_size) {
        items.push(decode(item));
      }
    }
    startKey = page.LastEvaluatedKey;
    if (!startKey) break;
    if (plan.residual.length > 0 && items.length >= request.page_size) break;
  }
  return { items, total: await totalPromise };
}
