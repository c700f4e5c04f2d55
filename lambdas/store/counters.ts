import { type EntityName, FILTER_SLOTS, filterPartition } from './keys';

/**
 * Counters that make every list's `total` one read, whatever the table holds.
 *
 * An item counts in the counter of its entity's whole collection, of each filter value it
 * has (`TASK#status=running`), and of each combination of two or more of them
 * (`TASK#status=running&type=build`), so a list with any set of filters reads one counter.
 * Filters whose partitions stay small whatever the table holds (a deployment's tasks) are
 * counted by reading their partition instead, and need no counters: that keeps the writes
 * of a deployment, which creates all its tasks in one transaction, within DynamoDB's limit.
 *
 * Every write that adds, removes or moves an item between partitions changes the counters
 * in the same transaction (see counterChanges), so a total never drifts from the items.
 */

export type FilterValue = string | boolean;
export type FilterValues = Readonly<Record<string, FilterValue | undefined>>;

/** Filter attributes whose partitions are bounded by a parent (one deployment's tasks). */
export const BOUNDED_FILTERS: Readonly<Partial<Record<EntityName, readonly string[]>>> = {
  TASK: ['deployment_id'],
};

export const isBoundedFilter = (entity: EntityName, attribute: string): boolean =>
  BOUNDED_FILTERS[entity]?.includes(attribute) ?? false;

/**
 * `%`, `&` and `=` are escaped in combination values so that two different combinations
 * can never share a key; ids, statuses and types hold none of them, and `{}` stays as it
 * is, so the workflow compiler can template a value with States.Format.
 */
const escapeValue = (value: FilterValue): string =>
  String(value).replaceAll('%', '%25').replaceAll('&', '%26').replaceAll('=', '%3D');

/**
 * The partition of one combination of filter values, in FILTER_SLOTS order. One filter is
 * the list partition itself (keys.ts filterPartition); none is the whole collection.
 */
export function combinationPartition(
  entity: EntityName,
  entries: readonly (readonly [string, FilterValue])[],
): string {
  const slots: readonly string[] = FILTER_SLOTS[entity];
  const ordered = [...entries].sort(([a], [b]) => slots.indexOf(a) - slots.indexOf(b));
  const [only, ...rest] = ordered;
  if (only === undefined) return entity;
  if (rest.length === 0) return filterPartition(entity, only[0], only[1]);
  return `${entity}#${ordered.map(([attribute, value]) => `${attribute}=${escapeValue(value)}`).join('&')}`;
}

/** Every non-empty subset of `entries`, smallest first, in their order. */
function subsets<T>(entries: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let mask = 1; mask < 1 << entries.length; mask += 1) {
    result.push(entries.filter((_entry, index) => (mask & (1 << index)) !== 0));
  }
  return result.sort((a, b) => a.length - b.length);
}

/** The counters an item with these filter values counts in (the collection's first). */
export function counterPartitions(entity: EntityName, values: FilterValues): string[] {
  const counted = FILTER_SLOTS[entity].flatMap((attribute) => {
    const value = values[attribute];
    return value === undefined || isBoundedFilter(entity, attribute) ? [] : [[attribute, value] as const];
  });
  return [entity, ...subsets(counted).map((combination) => combinationPartition(entity, combination))];
}

export interface CounterChange {
  readonly partition: string;
  readonly delta: number;
}

/**
 * What moving items from `before` to `after` does to the counters: a create has no
 * `before`, a delete no `after`. `count` items moving alike (a deployment's tasks of one
 * step type) become one change per counter.
 */
export function counterChanges(
  entity: EntityName,
  before: FilterValues | undefined,
  after: FilterValues | undefined,
  count = 1,
): CounterChange[] {
  const removed = before ? counterPartitions(entity, before) : [];
  const added = after ? counterPartitions(entity, after) : [];
  return [
    ...removed
      .filter((partition) => !added.includes(partition))
      .map((partition) => ({ partition, delta: -count })),
    ...added
      .filter((partition) => !removed.includes(partition))
      .map((partition) => ({ partition, delta: count })),
  ];
}

/** Sums changes to the same counter and drops those that cancel out. */
export function mergeCounterChanges(changes: readonly CounterChange[]): CounterChange[] {
  const totals = new Map<string, number>();
  for (const { partition, delta } of changes) totals.set(partition, (totals.get(partition) ?? 0) + delta);
  return [...totals].filter(([, delta]) => delta !== 0).map(([partition, delta]) => ({ partition, delta }));
}

/**
 * The counter a list with these filters reads for its total, or undefined when a bounded
 * filter is set (its partition is counted by reading it).
 */
export function totalCounterPartition(entity: EntityName, filters: FilterValues): string | undefined {
  const entries = FILTER_SLOTS[entity].flatMap((attribute) => {
    const value = filters[attribute];
    return value === undefined ? [] : [[attribute, value] as const];
  });
  if (entries.some(([attribute]) => isBoundedFilter(entity, attribute))) return undefined;
  return combinationPartition(entity, entries);
}
