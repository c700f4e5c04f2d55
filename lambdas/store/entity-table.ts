import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModification } from '../domain/errors';
import { counterChanges, type FilterValues } from './counters';
import { type EntityName, entityKey, FILTER_SLOTS } from './keys';
import type { StoreContext } from './store-context';
import { counterWrites, type TaggedWrite, writeTransaction } from './transaction';

/** A condition on another item that a delete needs, and the error when it does not hold. */
export interface RemoveGuard {
  readonly check: TaggedWrite;
  /** the error to throw, given the item that failed the check (if it exists) */
  readonly rejection: (item: Record<string, unknown> | undefined) => Error;
}

/** Every stored entity carries a revision for optimistic concurrency. */
export interface StoredItem extends Record<string, unknown> {
  readonly pk: string;
  readonly sk: string;
  readonly revision: number;
}

/** The values of an item's list filters (its repository, type, …), which decide its counters. */
export function filterValuesOf(entity: EntityName, item: Readonly<Record<string, unknown>>): FilterValues {
  return Object.fromEntries(
    FILTER_SLOTS[entity].flatMap((attribute) => {
      const value = item[attribute];
      return typeof value === 'string' || typeof value === 'boolean' ? [[attribute, value]] : [];
    }),
  );
}

/**
 * Writes of one entity type that keep the list counters exact (counters.ts): every write
 * and its counter changes go in one transaction, so `total` never drifts from the items.
 */
export class EntityTable {
  constructor(
    private readonly context: StoreContext,
    readonly entity: EntityName,
  ) {}

  async get(id: string): Promise<StoredItem | undefined> {
    const { Item } = await this.context.client.send(
      new GetCommand({
        TableName: this.context.tableName,
        Key: entityKey(this.entity, id),
        ConsistentRead: true,
      }),
    );
    return Item as StoredItem | undefined;
  }

  private changed(previous: StoredItem): ConcurrentModification {
    return new ConcurrentModification(
      `${this.entity.toLowerCase()} ${String(previous.id)} was changed by another request; read it again and retry`,
    );
  }

  async create(item: StoredItem): Promise<void> {
    const { tableName } = this.context;
    const outcome = await writeTransaction(this.context, [
      {
        tag: 'item',
        write: { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      },
      ...counterWrites(tableName, counterChanges(this.entity, undefined, filterValuesOf(this.entity, item))),
    ]);
    if (!outcome.ok)
      throw new ConcurrentModification(`${this.entity.toLowerCase()} ${String(item.id)} exists already`);
  }

  /** Replaces `previous` by `next` unless someone else changed it since it was read (409). */
  async replace(previous: StoredItem, next: StoredItem): Promise<void> {
    const { tableName } = this.context;
    const outcome = await writeTransaction(this.context, [
      {
        tag: 'item',
        write: {
          Put: {
            TableName: tableName,
            Item: next,
            ConditionExpression: '#revision = :revision',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':revision': previous.revision },
          },
        },
      },
      ...counterWrites(
        tableName,
        counterChanges(this.entity, filterValuesOf(this.entity, previous), filterValuesOf(this.entity, next)),
      ),
    ]);
    if (!outcome.ok) throw this.changed(previous);
  }

  /**
   * Reads the item, runs `check` (the usage guard), then deletes the item as it was read:
   * anything written to it after the read (a deployment that starts using it bumps its
   * revision) makes the delete a 409 instead of deleting what is now in use. False when
   * there is nothing to delete.
   */
  async removeById(id: string, check: () => Promise<void>): Promise<boolean> {
    const item = await this.get(id);
    if (!item) return false;
    await check();
    await this.remove(item);
    return true;
  }

  /**
   * Deletes the item as it was read; a concurrent change in between answers 409. `guards`
   * are conditions on other items checked in the same transaction (e.g. "no deployment
   * holds this environment's lock"); when only a guard fails, its own rejection is thrown.
   */
  async remove(previous: StoredItem, guards: readonly RemoveGuard[] = []): Promise<void> {
    const { tableName } = this.context;
    const outcome = await writeTransaction(this.context, [
      {
        tag: 'item',
        write: {
          Delete: {
            TableName: tableName,
            Key: { pk: previous.pk, sk: previous.sk },
            ConditionExpression: '#revision = :revision',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':revision': previous.revision },
          },
        },
      },
      ...counterWrites(
        tableName,
        counterChanges(this.entity, filterValuesOf(this.entity, previous), undefined),
      ),
      ...guards.map((guard, index) => ({ tag: `guard:${index}`, write: guard.check.write })),
    ]);
    if (outcome.ok) return;
    if (outcome.failed.some((failure) => failure.tag === 'item')) throw this.changed(previous);
    const [failure] = outcome.failed;
    const guard = failure ? guards[Number(failure.tag.slice('guard:'.length))] : undefined;
    throw guard ? guard.rejection(failure?.item) : this.changed(previous);
  }
}
