import {
  DeleteCommand,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Page, PageRequest } from '../domain/common';
import { Deployment, type DeploymentStatus } from '../domain/deployment';
import type { Task } from '../domain/task';
import {
  ENTITY,
  entityKey,
  environmentLockKey,
  filterPartition,
  indexAttributes,
  STATUS_INDEX,
} from './keys';
import { listPage } from './list-query';
import type { StoreContext } from './store-context';
import { failedConditions, isConditionFailure } from './store-errors';
import { taskItem } from './task-repository';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface DeploymentFilter extends PageRequest {
  readonly status?: DeploymentStatus;
  readonly environment_id?: string;
  readonly version_id?: string;
}

/** Internal fields kept beside the public ones. */
export interface DeploymentRecord {
  readonly deployment: Deployment;
  /** JSON of the Step Functions execution input; a retry starts a new execution with it. */
  readonly executionInput: string;
  readonly executionArn: string | null;
  /** how many times the workflow was resumed by a task retry */
  readonly resumes: number;
}

/** Why a deployment could not be written; the service turns each into its API error. */
/** Why the version, environment or applications of a deployment cannot be deployed now. */
export type TargetRejection =
  | {
      readonly reason: 'missing';
      readonly kind: 'version' | 'environment' | 'application';
      readonly id: string;
    }
  | { readonly reason: 'environment-inactive'; readonly id: string };

export type CreateRejection =
  | { readonly reason: 'environment-busy'; readonly deploymentId: string | undefined }
  | TargetRejection;

export type ResumeRejection = CreateRejection | { readonly reason: 'changed' };

export interface NewDeployment {
  readonly record: DeploymentRecord;
  readonly tasks: readonly Task[];
}

export interface DeploymentRepository {
  /**
   * Writes the deployment, its tasks and the environment's lock in one transaction, which
   * also re-checks that the version, the applications and the active environment still exist.
   */
  create(next: NewDeployment): Promise<CreateRejection | undefined>;
  getById(id: string): Promise<DeploymentRecord | undefined>;
  list(filter: DeploymentFilter): Promise<Page<Deployment>>;
  /** The deployment holding the environment's lock, if any. */
  lockHolder(environmentId: string): Promise<string | undefined>;
  recordExecution(id: string, executionArn: string): Promise<void>;
  /**
   * Ends an unfinished deployment as failed (start failure or cancel) and releases its lock;
   * false when it had finished already.
   */
  finishAsFailed(id: string, environmentId: string, message: string, at: string): Promise<boolean>;
  /** Marks unfinished tasks failed; each only if still unfinished. */
  failUnfinishedTasks(tasks: readonly Task[], result: string, at: string): Promise<void>;
  /**
   * Retry: the failed task back to `pending`, its failed deployment back to `running`, the
   * environment lock taken again, the resume counter moved on, all or nothing; and, as when
   * it was created, only while its version and applications exist and its environment is
   * active (an admin may have retired them since).
   */
  resume(record: DeploymentRecord, task: Task, at: string): Promise<ResumeRejection | undefined>;
}

export const deploymentItem = (record: DeploymentRecord): Record<string, unknown> => ({
  ...entityKey(ENTITY.deployment, record.deployment.id),
  ...indexAttributes(ENTITY.deployment, record.deployment.id, {
    environment_id: record.deployment.environment_id,
    status: record.deployment.status,
    version_id: record.deployment.version_id,
  }),
  ...record.deployment,
  execution_input: record.executionInput,
  execution_arn: record.executionArn,
  resumes: record.resumes,
});

function recordFromItem(item: Record<string, unknown>): DeploymentRecord {
  return {
    deployment: Deployment.parse(item),
    executionInput: String(item.execution_input ?? '{}'),
    executionArn: typeof item.execution_arn === 'string' ? item.execution_arn : null,
    resumes: typeof item.resumes === 'number' ? item.resumes : 0,
  };
}

const fromItem = (item: Record<string, unknown>): Deployment => Deployment.parse(item);

const statusAttributes = (status: DeploymentStatus) => ({
  ':status': status,
  ':statusPartition': filterPartition(ENTITY.deployment, 'status', status),
});

export function createDeploymentRepository(context: StoreContext): DeploymentRepository {
  const { tableName } = context;

  /**
   * The version or application must exist, and its revision moves: a delete that read it
   * before this deployment existed then fails its revision condition instead of removing
   * something in use (EntityTable.removeById).
   */
  const existence = (kind: 'VERSION' | 'APPLICATION', id: string): TransactItem => ({
    Update: {
      TableName: tableName,
      Key: entityKey(kind, id),
      UpdateExpression: 'SET #revision = #revision + :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#revision': 'revision' },
      ExpressionAttributeValues: { ':one': 1 },
    },
  });

  /** What must hold for a deployment to run: its version, active environment and applications. */
  const targetChecks = (deployment: Deployment): TransactItem[] => [
    existence(ENTITY.version, deployment.version_id),
    {
      ConditionCheck: {
        TableName: tableName,
        Key: entityKey(ENTITY.environment, deployment.environment_id),
        ConditionExpression: 'attribute_exists(pk) AND is_active = :true',
        ExpressionAttributeValues: { ':true': true },
      },
    },
    ...deployment.application_ids.map((id) => existence(ENTITY.application, id)),
  ];

  /** Which of targetChecks(deployment) failed, from its index among them. */
  const targetRejection = async (
    deployment: Deployment,
    index: number,
  ): Promise<TargetRejection | undefined> => {
    if (index === 0) return { reason: 'missing', kind: 'version', id: deployment.version_id };
    if (index === 1) {
      // One check covers "exists" and "is active"; a read tells which failed (deleted meanwhile → 404).
      const { Item } = await context.client.send(
        new GetCommand({
          TableName: tableName,
          Key: entityKey(ENTITY.environment, deployment.environment_id),
          ConsistentRead: true,
        }),
      );
      return Item
        ? { reason: 'environment-inactive', id: deployment.environment_id }
        : { reason: 'missing', kind: 'environment', id: deployment.environment_id };
    }
    const application = deployment.application_ids[index - 2];
    return application === undefined
      ? undefined
      : { reason: 'missing', kind: 'application', id: application };
  };

  const lockHolder = async (environmentId: string): Promise<string | undefined> => {
    const { Item } = await context.client.send(
      new GetCommand({ TableName: tableName, Key: environmentLockKey(environmentId), ConsistentRead: true }),
    );
    return typeof Item?.deployment_id === 'string' ? Item.deployment_id : undefined;
  };

  return {
    async create({ record, tasks }) {
      const { deployment } = record;
      const items: TransactItem[] = [
        {
          Put: {
            TableName: tableName,
            Item: { ...environmentLockKey(deployment.environment_id), deployment_id: deployment.id },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...targetChecks(deployment),
        {
          Put: {
            TableName: tableName,
            Item: deploymentItem(record),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...tasks.map((task) => ({ Put: { TableName: tableName, Item: taskItem(task) } })),
      ];
      try {
        await context.client.send(new TransactWriteCommand({ TransactItems: items }));
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const [first] = failedConditions(error);
        if (first === 0) {
          return {
            reason: 'environment-busy',
            deploymentId: await lockHolder(deployment.environment_id),
          };
        }
        const target = first === undefined ? undefined : await targetRejection(deployment, first - 1);
        if (target) return target;
        throw error;
      }
    },

    async getById(id) {
      const { Item } = await context.client.send(
        new GetCommand({ TableName: tableName, Key: entityKey(ENTITY.deployment, id), ConsistentRead: true }),
      );
      return Item ? recordFromItem(Item) : undefined;
    },

    list: (filter) =>
      listPage(
        context,
        ENTITY.deployment,
        { environment_id: filter.environment_id, status: filter.status, version_id: filter.version_id },
        filter,
        fromItem,
        false,
      ),

    lockHolder,

    async recordExecution(id, executionArn) {
      await context.client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: entityKey(ENTITY.deployment, id),
          UpdateExpression: 'SET execution_arn = :arn',
          ExpressionAttributeValues: { ':arn': executionArn },
        }),
      );
    },

    async finishAsFailed(id, environmentId, message, at) {
      try {
        await context.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: entityKey(ENTITY.deployment, id),
            UpdateExpression:
              'SET #status = :status, #statusKey = :statusPartition, error_message = :message, completed_at = :at, updated_at = :at',
            ConditionExpression: '#status IN (:pending, :running)',
            ExpressionAttributeNames: { '#status': 'status', '#statusKey': STATUS_INDEX.partitionKey },
            ExpressionAttributeValues: {
              ...statusAttributes('failed'),
              ':message': message,
              ':at': at,
              ':pending': 'pending',
              ':running': 'running',
            },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Finished already; but a stop can land after the workflow's last status write and
        // before its lock release, so the lock may still be held by this finished deployment.
        await releaseLockOfFinished(context, environmentId, id);
        return false;
      }
      await releaseLock(context, environmentId, id);
      return true;
    },

    async failUnfinishedTasks(tasks, result, at) {
      await Promise.all(
        tasks
          .filter((task) => task.status === 'pending' || task.status === 'running')
          .map(async (task) => {
            try {
              await context.client.send(
                new UpdateCommand({
                  TableName: tableName,
                  Key: entityKey(ENTITY.task, task.id),
                  UpdateExpression:
                    'SET #status = :status, #statusKey = :statusPartition, #result = :result, completed_at = :at, updated_at = :at',
                  ConditionExpression: '#status IN (:pending, :running)',
                  ExpressionAttributeNames: {
                    '#status': 'status',
                    '#statusKey': STATUS_INDEX.partitionKey,
                    '#result': 'result',
                  },
                  ExpressionAttributeValues: {
                    ':status': 'failed',
                    ':statusPartition': filterPartition(ENTITY.task, 'status', 'failed'),
                    ':result': result,
                    ':at': at,
                    ':pending': 'pending',
                    ':running': 'running',
                  },
                }),
              );
            } catch (error) {
              if (!isConditionFailure(error)) throw error;
            }
          }),
      );
    },

    async resume(record, task, at) {
      const { deployment } = record;
      try {
        await context.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: entityKey(ENTITY.task, task.id),
                  UpdateExpression:
                    'SET #status = :status, #statusKey = :statusPartition, #result = :empty, started_at = :null, completed_at = :null, updated_at = :at',
                  ConditionExpression: '#status = :failed',
                  ExpressionAttributeNames: {
                    '#status': 'status',
                    '#statusKey': STATUS_INDEX.partitionKey,
                    '#result': 'result',
                  },
                  ExpressionAttributeValues: {
                    ':status': 'pending',
                    ':statusPartition': filterPartition(ENTITY.task, 'status', 'pending'),
                    ':empty': '',
                    ':null': null,
                    ':at': at,
                    ':failed': 'failed',
                  },
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: entityKey(ENTITY.deployment, deployment.id),
                  UpdateExpression:
                    'SET #status = :status, #statusKey = :statusPartition, error_message = :empty, completed_at = :null, updated_at = :at, resumes = :next',
                  ConditionExpression: '#status = :failed AND resumes = :resumes',
                  ExpressionAttributeNames: { '#status': 'status', '#statusKey': STATUS_INDEX.partitionKey },
                  ExpressionAttributeValues: {
                    ...statusAttributes('running'),
                    ':empty': '',
                    ':null': null,
                    ':at': at,
                    ':failed': 'failed',
                    ':resumes': record.resumes,
                    ':next': record.resumes + 1,
                  },
                },
              },
              {
                Put: {
                  TableName: tableName,
                  Item: { ...environmentLockKey(deployment.environment_id), deployment_id: deployment.id },
                  ConditionExpression: 'attribute_not_exists(pk) OR deployment_id = :deployment',
                  ExpressionAttributeValues: { ':deployment': deployment.id },
                },
              },
              ...targetChecks(deployment),
            ],
          }),
        );
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const failed = failedConditions(error);
        if (failed.includes(2)) {
          return { reason: 'environment-busy', deploymentId: await lockHolder(deployment.environment_id) };
        }
        const target = failed.find((index) => index >= 3);
        return (
          (target === undefined ? undefined : await targetRejection(deployment, target - 3)) ?? {
            reason: 'changed',
          }
        );
      }
    },
  };
}

/** The delete of an environment's lock, only while this deployment holds it. */
const lockDelete = (context: StoreContext, environmentId: string, deploymentId: string) => ({
  TableName: context.tableName,
  Key: environmentLockKey(environmentId),
  ConditionExpression: 'deployment_id = :deployment',
  ExpressionAttributeValues: { ':deployment': deploymentId },
});

/** Frees the environment, but only from this deployment: a repeated release is harmless. */
export async function releaseLock(
  context: StoreContext,
  environmentId: string,
  deploymentId: string,
): Promise<void> {
  try {
    await context.client.send(new DeleteCommand(lockDelete(context, environmentId, deploymentId)));
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Frees the environment from a deployment that has finished (success or failed), checked in
 * the same transaction: a retry that meanwhile made it run again keeps its lock.
 */
async function releaseLockOfFinished(
  context: StoreContext,
  environmentId: string,
  deploymentId: string,
): Promise<void> {
  try {
    await context.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: context.tableName,
              Key: entityKey(ENTITY.deployment, deploymentId),
              ConditionExpression: '#status IN (:success, :failed)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':success': 'success', ':failed': 'failed' },
            },
          },
          { Delete: lockDelete(context, environmentId, deploymentId) },
        ],
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
