import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { environmentLockKey } from './keys';
import type { StoreContext } from './store-context';
import { isConditionFailure } from './store-errors';
import type { TaggedWrite, TransactItem } from './transaction';

/**
 * The lock that admits one unfinished deployment per environment: an item holding
 * `deployment_id`, taken in the transaction that creates (or resumes) the deployment and
 * released by the workflow's last write or by a cancel. The compiled workflow releases it
 * with the same condition (workflow/table-requests.ts).
 */
export interface EnvironmentLock {
  /** Takes the lock for `deploymentId`; fails its condition while another deployment holds it. */
  acquire(environmentId: string, deploymentId: string): TaggedWrite<'lock'>;
  /** Frees the lock if `deploymentId` holds it; a lock already free is no failure. */
  release(environmentId: string, deploymentId: string): TaggedWrite<'lock'>;
  /** Holds when no deployment has the lock (deleting the environment needs it). */
  free(environmentId: string): TaggedWrite<'lock'>;
  /** Who held the lock, from the item a failed `acquire` or `free` reported. */
  holderOf(item: Record<string, unknown> | undefined): string | undefined;
  /** Who holds the lock now (a consistent read). */
  holder(environmentId: string): Promise<string | undefined>;
  /** Frees the lock now if `deploymentId` holds it. */
  releaseNow(environmentId: string, deploymentId: string): Promise<void>;
}

export function createEnvironmentLock(context: StoreContext): EnvironmentLock {
  const { tableName } = context;
  const releaseDelete = (environmentId: string, deploymentId: string) => ({
    TableName: tableName,
    Key: environmentLockKey(environmentId),
    ConditionExpression: 'attribute_not_exists(pk) OR deployment_id = :deployment',
    ExpressionAttributeValues: { ':deployment': deploymentId },
  });
  const holderOf = (item: Record<string, unknown> | undefined) =>
    typeof item?.deployment_id === 'string' ? item.deployment_id : undefined;

  return {
    acquire: (environmentId, deploymentId): TaggedWrite<'lock'> => ({
      tag: 'lock',
      write: {
        Put: {
          TableName: tableName,
          Item: { ...environmentLockKey(environmentId), deployment_id: deploymentId },
          // A resumed deployment takes its own lock again.
          ConditionExpression: 'attribute_not_exists(pk) OR deployment_id = :deployment',
          ExpressionAttributeValues: { ':deployment': deploymentId },
        },
      },
    }),
    release: (environmentId, deploymentId) => ({
      tag: 'lock',
      write: { Delete: releaseDelete(environmentId, deploymentId) } satisfies TransactItem,
    }),
    free: (environmentId) => ({
      tag: 'lock',
      write: {
        ConditionCheck: {
          TableName: tableName,
          Key: environmentLockKey(environmentId),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    }),
    holderOf,
    async holder(environmentId) {
      const { Item } = await context.client.send(
        new GetCommand({
          TableName: tableName,
          Key: environmentLockKey(environmentId),
          ConsistentRead: true,
        }),
      );
      return holderOf(Item);
    },
    async releaseNow(environmentId, deploymentId) {
      try {
        await context.client.send(new DeleteCommand(releaseDelete(environmentId, deploymentId)));
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
}
