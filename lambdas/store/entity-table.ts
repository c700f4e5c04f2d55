import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { conflict } from '../http/errors';
import { counterKey, type EntityName, entityKey } from './keys';
import type { StoreContext } from './store-context';
import { failedConditions, isConditionFailure } from './store-errors';
import { INDEX_LIST } from './table-definition';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A condition on another item that a delete needs, and the error when it does not hold. */
export interface RemoveGuard {
  readonly check: TransactItem;
  readonly rejection: () => Promise<Error>;
}

/** Every stored entity carries a revision for optimistic concurrency. */
export interface StoredItem extends Record<string, unknown> {
  readonly pk: string;
  readonly sk: string;
  readonly revision: number;
}

/** The list partitions an item belongs to (the values of its GSI partition keys). */
export function partitionsOf(item: Record<string, unknown>): string[] {
  return INDEX_LIST.flatMap((index) => {
    const value = item[index.partitionKey];
    return typeof value === 'string' ? [value] : [];
  });
}

export function counterUpdates(
  tableName: string,
  partitions: readonly string[],
  delta: 1 | -1,
): TransactItem[] {
  return partitions.map((partition) => ({
    Update: {
      TableName: tableName,
      Key: counterKey(partition),
      UpdateExpression: 'ADD #count :delta',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':delta': delta },
    },
  }));
}

/**
 * Writes of one entity type that keep the per-partition counters exact: every write and its
 * counter changes go in one transaction, so `total` never drifts from the items.
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

  async create(item: StoredItem, extra: readonly TransactItem[] = []): Promise<void> {
    const { tableName } = this.context;
    await this.context.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
          ...counterUpdates(tableName, partitionsOf(item), 1),
          ...extra,
        ],
      }),
    );
  }

  /** Replaces `previous` by `next` unless someone else changed it since it was read (409). */
  async replace(previous: StoredItem, next: StoredItem): Promise<void> {
    const { tableName } = this.context;
    const before = partitionsOf(previous);
    const after = partitionsOf(next);
    try {
      await this.context.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: next,
                ConditionExpression: '#revision = :revision',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':revision': previous.revision },
              },
            },
            ...counterUpdates(
              tableName,
              before.filter((partition) => !after.includes(partition)),
              -1,
            ),
            ...counterUpdates(
              tableName,
              after.filter((partition) => !before.includes(partition)),
              1,
            ),
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw conflict(
          `${this.entity.toLowerCase()} ${String(previous.id)} was changed by another request; read it again and retry`,
        );
      }
      throw error;
    }
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
    const counters = counterUpdates(tableName, partitionsOf(previous), -1);
    try {
      await this.context.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tableName,
                Key: { pk: previous.pk, sk: previous.sk },
                ConditionExpression: '#revision = :revision',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':revision': previous.revision },
              },
            },
            ...counters,
            ...guards.map((guard) => guard.check),
          ],
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const failed = failedConditions(error);
      const guard = failed.includes(0) ? undefined : guards[(failed[0] ?? 0) - 1 - counters.length];
      if (guard) throw await guard.rejection();
      throw conflict(
        `${this.entity.toLowerCase()} ${String(previous.id)} was changed by another request; retry`,
      );
    }
  }
}
