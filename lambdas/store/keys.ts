import { INDEXES, type IndexDefinition } from './table-definition';

/**
 * Key design of the single table (docs/data-model.md explains it with the access patterns).
 *
 * Every entity item lives under `pk = <ENTITY>#<id>`, `sk = <ENTITY>`. Its list partitions are
 * written into the shared GSI attributes: `gsi1pk` is the whole collection, `gsi2pk`..`gsi4pk`
 * one list filter each. Every GSI sort key is the item's id: ids are time-ordered (see ids.ts),
 * so a descending Query returns newest first.
 */
export const ENTITY = {
  version: 'VERSION',
  application: 'APPLICATION',
  environment: 'ENVIRONMENT',
  deployment: 'DEPLOYMENT',
  task: 'TASK',
} as const;

export type EntityName = (typeof ENTITY)[keyof typeof ENTITY];

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export const entityKey = (entity: EntityName, id: string): ItemKey => ({ pk: `${entity}#${id}`, sk: entity });

/** The lock that admits one unfinished deployment per environment; holds `deployment_id`. */
export const environmentLockKey = (environmentId: string): ItemKey => ({
  pk: `${ENTITY.environment}#${environmentId}`,
  sk: 'LOCK',
});

/** Partition value of a filtered list: `<ENTITY>#<attribute>=<value>`. */
export const filterPartition = (entity: EntityName, attribute: string, value: string | boolean): string =>
  `${entity}#${attribute}=${String(value)}`;

/** Item counting the members of one list partition, so `total` costs one read. */
export const counterKey = (partition: string): ItemKey => ({ pk: `COUNTER#${partition}`, sk: 'COUNTER' });

/**
 * Which GSI attribute carries which filter, per entity. The slot order is also the order in
 * which a list with several filters picks its index (the first filter present wins, the
 * others become a filter expression on that partition).
 */
export const FILTER_SLOTS = {
  VERSION: ['repository'],
  APPLICATION: ['repository', 'type'],
  ENVIRONMENT: ['type', 'is_active'],
  DEPLOYMENT: ['environment_id', 'status', 'version_id'],
  TASK: ['deployment_id', 'status', 'type'],
} as const satisfies Record<EntityName, readonly string[]>;

const FILTER_INDEXES: readonly IndexDefinition[] = [INDEXES.byFilter1, INDEXES.byFilter2, INDEXES.byFilter3];

export type IndexAttributes = Record<string, string>;

/** GSI attributes of an entity item, from the values of its filter attributes. */
export function indexAttributes(
  entity: EntityName,
  id: string,
  values: Readonly<Record<string, string | boolean>>,
): IndexAttributes {
  const attributes: IndexAttributes = {
    [INDEXES.byType.partitionKey]: entity,
    [INDEXES.byType.sortKey]: id,
  };
  FILTER_SLOTS[entity].forEach((attribute, slot) => {
    const value = values[attribute];
    const index = FILTER_INDEXES[slot];
    if (value === undefined || index === undefined) return;
    attributes[index.partitionKey] = filterPartition(entity, attribute, value);
    attributes[index.sortKey] = id;
  });
  return attributes;
}

/** The GSI that serves the n-th filter slot of every entity. */
export const slotIndex = (slot: number): IndexDefinition | undefined => FILTER_INDEXES[slot];

/** The GSI that serves one entity's filter attribute. */
export function filterIndex(entity: EntityName, attribute: string): IndexDefinition {
  const slot = (FILTER_SLOTS[entity] as readonly string[]).indexOf(attribute);
  const index = slotIndex(slot);
  if (slot < 0 || !index) throw new Error(`${entity} has no list filter on ${attribute}`);
  return index;
}

/**
 * Deployments and tasks keep their status partition in the same GSI, which the workflow's
 * states and the API's status updates both rewrite whenever a status changes.
 */
export const STATUS_INDEX: IndexDefinition = filterIndex(ENTITY.deployment, 'status');
if (filterIndex(ENTITY.task, 'status') !== STATUS_INDEX) {
  throw new Error('deployments and tasks must keep their status in the same index');
}
