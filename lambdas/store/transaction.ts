import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type CounterChange, mergeCounterChanges } from './counters';
import { counterKey } from './keys';
import type { StoreContext } from './store-context';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** One write of a transaction, named so that a failed condition is reported by what it guards. */
export interface TaggedWrite<Tag extends string = string> {
  readonly tag: Tag;
  readonly write: TransactItem;
}

/** A write whose condition failed, with the item as it stood (ReturnValuesOnConditionCheckFailure). */
export interface FailedCondition<Tag extends string = string> {
  readonly tag: Tag;
  /** the item that failed the condition; undefined when there was none */
  readonly item: Record<string, unknown> | undefined;
}

export type TransactionOutcome<Tag extends string> =
  | { readonly ok: true }
  | { readonly ok: false; readonly failed: readonly FailedCondition<Tag>[] };

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

/** Each write with a condition asks DynamoDB for the item that failed it, so no second read is needed. */
function withOldItemOnFailure(write: TransactItem): TransactItem {
  const explain = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  if (write.Put?.ConditionExpression) return { Put: { ...write.Put, ...explain } };
  if (write.Update?.ConditionExpression) return { Update: { ...write.Update, ...explain } };
  if (write.Delete?.ConditionExpression) return { Delete: { ...write.Delete, ...explain } };
  if (write.ConditionCheck) return { ConditionCheck: { ...write.ConditionCheck, ...explain } };
  return write;
}

/**
 * Writes all or nothing. A transaction refused for failed conditions answers which tagged
 * writes failed and the items that failed them; any other fault (throttling, a transaction
 * conflict) is thrown for the edge to map.
 */
export async function writeTransaction<Tag extends string>(
  context: StoreContext,
  writes: readonly TaggedWrite<Tag>[],
): Promise<TransactionOutcome<Tag>> {
  try {
    await context.client.send(
      new TransactWriteCommand({ TransactItems: writes.map(({ write }) => withOldItemOnFailure(write)) }),
    );
    return { ok: true };
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') throw error;
    const reasons: readonly CancellationReason[] =
      (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
    // Only failed conditions are answers; a conflict or a throttle anywhere is a fault.
    if (
      reasons.some(
        (reason) => reason.Code !== undefined && !['None', 'ConditionalCheckFailed'].includes(reason.Code),
      )
    ) {
      throw error;
    }
    const failed = reasons.flatMap((reason, index) => {
      const tagged = writes[index];
      if (reason.Code !== 'ConditionalCheckFailed' || !tagged) return [];
      return [{ tag: tagged.tag, item: reason.Item ? unmarshall(reason.Item) : undefined }];
    });
    if (failed.length === 0) throw error;
    return { ok: false, failed };
  }
}

/** The counter writes of some changes (merged first: one write per counter). */
export function counterWrites(
  tableName: string,
  changes: readonly CounterChange[],
): TaggedWrite<'counter'>[] {
  return mergeCounterChanges(changes).map(({ partition, delta }) => ({
    tag: 'counter',
    write: {
      Update: {
        TableName: tableName,
        Key: counterKey(partition),
        UpdateExpression: 'ADD #count :delta',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':delta': delta },
      },
    },
  }));
}
