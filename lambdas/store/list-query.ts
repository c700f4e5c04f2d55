import { createHash } from 'node:crypto';
import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Page, PageRequest } from '../domain/common';
import { InvalidInput } from '../domain/errors';
import { type FilterValues, totalCounterPartition } from './counters';
import { counterKey, type EntityName, FILTER_SLOTS, filterPartition, slotIndex } from './keys';
import { queryPages } from './query-pages';
import type { StoreContext } from './store-context';
import { INDEXES, TABLE_KEYS } from './table-definition';

export type { FilterValues } from './counters';

export interface ListPlan {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
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
      sortKey: INDEXES.byType.sortKey,
      partition: entity,
      residual: [],
    };
  }
  return {
    indexName: index.indexName,
    partitionKey: index.partitionKey,
    sortKey: index.sortKey,
    partition: filterPartition(entity, first.attribute, first.value),
    residual: rest.map(({ attribute, value }) => [attribute, value] as const),
  };
}

function queryInput(context: StoreContext, plan: ListPlan, ascending: boolean): QueryCommandInput {
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
    ScanIndexForward: ascending,
    ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
  };
}

/**
 * The list's total: one counter read (counters.ts), or, for a bounded partition (one
 * deployment's tasks), a count of that small partition.
 */
async function countTotal(
  context: StoreContext,
  entity: EntityName,
  filters: FilterValues,
  plan: ListPlan,
): Promise<number> {
  const counter = totalCounterPartition(entity, filters);
  if (counter !== undefined) {
    const { Item } = await context.client.send(
      new GetCommand({ TableName: context.tableName, Key: counterKey(counter) }),
    );
    return typeof Item?.count === 'number' ? Math.max(0, Item.count) : 0;
  }
  let total = 0;
  for await (const page of queryPages(context, { ...queryInput(context, plan, false), Select: 'COUNT' })) {
    total += page.Count ?? 0;
  }
  return total;
}

const CURSOR_VERSION = 1;
/** Items a filtered list reads per Query at first and at most (they double each round). */
const MIN_FILTERED_BATCH = 25;
const MAX_FILTERED_BATCH = 1000;

const CursorKey = z.record(z.string(), z.string().min(1).max(1024));
const Cursor = z.strictObject({
  v: z.literal(CURSOR_VERSION),
  /** the page the cursor leads to */
  p: z.number().int().min(2),
  /** which list it belongs to */
  l: z.string(),
  /** the keys of the last item of the page before */
  k: CursorKey,
});
type Cursor = z.infer<typeof Cursor>;

/** Which list a cursor belongs to: its entity, filters and order. */
function listFingerprint(entity: EntityName, filters: FilterValues, ascending: boolean): string {
  const described = JSON.stringify([
    entity,
    ascending,
    FILTER_SLOTS[entity].map((slot) => filters[slot] ?? null),
  ]);
  return createHash('sha256').update(described).digest('base64url').slice(0, 16);
}

const invalidCursor = (message: string) =>
  new InvalidInput('Invalid request query', [{ field: 'cursor', message }]);

export function encodeCursor(cursor: Omit<Cursor, 'v'>): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, ...cursor }), 'utf8').toString('base64url');
}

/**
 * A cursor from the client, checked to be one this list handed out: its keys name an item
 * of this entity in this list's partition, so no forged key reaches DynamoDB.
 */
function decodeCursor(text: string, entity: EntityName, plan: ListPlan, fingerprint: string): Cursor {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('not a cursor this API handed out');
  }
  const parsed = Cursor.safeParse(json);
  if (!parsed.success) throw invalidCursor('not a cursor this API handed out');
  const cursor = parsed.data;
  if (cursor.l !== fingerprint) {
    throw invalidCursor(
      'this cursor belongs to another list: keep the filters and sort of the request it came from',
    );
  }
  const expected = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, plan.partitionKey, plan.sortKey].sort();
  const keys = cursor.k;
  const id = keys[plan.sortKey];
  const wellFormed =
    JSON.stringify(Object.keys(keys).sort()) === JSON.stringify([...new Set(expected)]) &&
    keys[plan.partitionKey] === plan.partition &&
    keys[TABLE_KEYS.sortKey] === entity &&
    id !== undefined &&
    keys[TABLE_KEYS.partitionKey] === `${entity}#${id}`;
  if (!wellFormed) throw invalidCursor('not a cursor this API handed out');
  return cursor;
}

function cursorKeyOf(item: Record<string, unknown>, plan: ListPlan): Record<string, string> {
  const names = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, plan.partitionKey, plan.sortKey];
  return Object.fromEntries(names.map((name) => [name, String(item[name])]));
}

/**
 * One page of a list, newest first unless `sort=oldest`, with its total and a cursor to the
 * next page. Page numbers skip items (read with the smallest projection DynamoDB allows); a
 * cursor continues after the last item it saw, so items added meanwhile cause no duplicate
 * or gap. Page 1 and every cursor page cost the same however many items the table holds.
 */
export async function listPage<T>(
  context: StoreContext,
  entity: EntityName,
  filters: FilterValues,
  request: PageRequest,
  decode: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const plan = planList(entity, filters);
  const ascending = request.sort === 'oldest';
  const fingerprint = listFingerprint(entity, filters, ascending);
  const cursor =
    request.cursor === undefined ? undefined : decodeCursor(request.cursor, entity, plan, fingerprint);
  const base = queryInput(context, plan, ascending);
  const pageNumber = cursor?.p ?? request.page;
  const filtered = plan.residual.length > 0;
  let toSkip = cursor ? 0 : (request.page - 1) * request.page_size;
  let startKey: Record<string, unknown> | undefined = cursor?.k;
  const matches: Record<string, unknown>[] = [];
  const totalPromise = countTotal(context, entity, filters, plan);
  // Awaited below; this only keeps a failure from surfacing as an unhandled rejection first.
  totalPromise.catch(() => undefined);
  let more = false;
  let round = 0;
  // One match past the page tells whether a next page exists.
  while (matches.length <= request.page_size) {
    const skipping = toSkip > 0;
    const wanted = (skipping ? toSkip : 0) + request.page_size + 1 - matches.length;
    // Without a residual filter every item read is a match. With one, DynamoDB applies Limit
    // before the filter: read in growing batches, so a page costs what the filter's density
    // asks, never the whole partition (a Query without Limit reads up to 1 MB).
    const limit = filtered
      ? Math.min(MAX_FILTERED_BATCH, Math.max(MIN_FILTERED_BATCH, wanted * 2 ** round))
      : skipping
        ? toSkip
        : wanted;
    round += 1;
    const page = await context.client.send(
      new QueryCommand({
        ...base,
        ExclusiveStartKey: startKey,
        Limit: limit,
        ...(skipping && !filtered
          ? { ProjectionExpression: '#pk', ExpressionAttributeNames: base.ExpressionAttributeNames }
          : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      if (toSkip > 0) toSkip -= 1;
      else matches.push(item);
    }
    startKey = page.LastEvaluatedKey;
    if (matches.length > request.page_size) {
      more = true;
      break;
    }
    if (!startKey) break;
  }
  const items = matches.slice(0, request.page_size);
  const last = items.at(-1);
  const nextCursor =
    more && last ? encodeCursor({ p: pageNumber + 1, l: fingerprint, k: cursorKeyOf(last, plan) }) : null;
  return { items: items.map(decode), total: await totalPromise, page: pageNumber, nextCursor };
}
