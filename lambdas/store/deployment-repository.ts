import { BatchGetCommand, type BatchGetCommandOutput, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Page, PageRequest } from '../domain/common';
import { Deployment, type DeploymentStatus } from '../domain/deployment';
import { ConcurrentModification, Conflict, EnvironmentBusy, NotFound } from '../domain/errors';
import { Task } from '../domain/task';
import { counterChanges, mergeCounterChanges } from './counters';
import { createEnvironmentLock } from './environment-lock';
import { ENTITY, entityKey, indexAttributes } from './keys';
import { listPage } from './list-query';
import {
  type LifecycleStatus,
  type TransitionClauses,
  transitionCounterChanges,
  transitionExpression,
} from './status-transition';
import type { StoreContext } from './store-context';
import { taskItem } from './task-repository';
import { counterWrites, type FailedCondition, type TaggedWrite, writeTransaction } from './transaction';

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
  /** how many times the workflow was resumed by a task retry; names the current execution */
  readonly resumes: number;
}

export interface NewDeployment {
  readonly record: DeploymentRecord;
  readonly tasks: readonly Task[];
}

export interface DeploymentRepository {
  /**
   * Writes the deployment, its tasks, their list counters and the environment's lock in one
   * transaction, which also re-checks that the version, the applications and the active
   * environment still exist. Throws EnvironmentBusy, NotFound or Conflict (inactive).
   */
  create(next: NewDeployment): Promise<void>;
  getById(id: string): Promise<DeploymentRecord | undefined>;
  list(filter: DeploymentFilter): Promise<Page<Deployment>>;
  /** The deployment holding the environment's lock, if any. */
  lockHolder(environmentId: string): Promise<string | undefined>;
  /**
   * Ends an unfinished deployment as failed (start failure or cancel) and releases its lock;
   * false when it had finished already.
   */
  finishAsFailed(record: DeploymentRecord, message: string, at: string): Promise<boolean>;
  /** Marks the unfinished ones of these tasks failed, each from the status it has now. */
  failUnfinishedTasks(taskIds: readonly string[], result: string, at: string): Promise<void>;
  /**
   * Retry: the failed task back to `pending`, its failed deployment back to `running`, the
   * environment lock taken again, the resume counter moved on, all or nothing; and, as when
   * it was created, only while its version and applications exist and its environment is
   * active (an admin may have retired them since).
   */
  resume(record: DeploymentRecord, task: Task, at: string): Promise<void>;
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
  resumes: record.resumes,
});

function recordFromItem(item: Record<string, unknown>): DeploymentRecord {
  return {
    deployment: Deployment.parse(item),
    executionInput: String(item.execution_input ?? '{}'),
    resumes: typeof item.resumes === 'number' ? item.resumes : 0,
  };
}

const fromItem = (item: Record<string, unknown>): Deployment => Deployment.parse(item);

const UNFINISHED: readonly LifecycleStatus[] = ['pending', 'running'];
const isUnfinished = (status: unknown): status is 'pending' | 'running' =>
  status === 'pending' || status === 'running';

/** The filter values of a deployment besides its status: what its status counters depend on. */
const deploymentCounterValues = (deployment: Deployment) => ({
  environment_id: deployment.environment_id,
  version_id: deployment.version_id,
});

type TargetTag = 'version' | 'environment' | `application:${string}`;

export function createDeploymentRepository(context: StoreContext): DeploymentRepository {
  const { tableName } = context;
  const lock = createEnvironmentLock(context);

  /** A status change of a deployment or task, with the counters it moves, as tagged writes. */
  function transitionWrites<Tag extends string>(
    tag: Tag,
    entity: 'DEPLOYMENT' | 'TASK',
    id: string,
    from: LifecycleStatus,
    to: LifecycleStatus,
    counterValues: Record<string, string>,
    clauses: TransitionClauses,
    values: Record<string, unknown>,
  ): TaggedWrite<Tag | 'counter'>[] {
    const transition = { entity, from, to };
    const expression = transitionExpression(transition, clauses);
    return [
      {
        tag,
        write: {
          Update: {
            TableName: tableName,
            Key: entityKey(entity, id),
            UpdateExpression: expression.UpdateExpression,
            ConditionExpression: expression.ConditionExpression,
            ExpressionAttributeNames: expression.ExpressionAttributeNames,
            ExpressionAttributeValues: { ...expression.literals, ...values },
          },
        },
      },
      ...counterWrites(tableName, transitionCounterChanges(transition, counterValues)),
    ];
  }

  /**
   * The version or application must exist, and its revision moves: a delete that read it
   * before this deployment existed then fails its revision condition instead of removing
   * something in use (EntityTable.removeById).
   */
  const existence = (
    tag: TargetTag,
    kind: 'VERSION' | 'APPLICATION',
    id: string,
  ): TaggedWrite<TargetTag> => ({
    tag,
    write: {
      Update: {
        TableName: tableName,
        Key: entityKey(kind, id),
        UpdateExpression: 'SET #revision = #revision + :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#revision': 'revision' },
        ExpressionAttributeValues: { ':one': 1 },
      },
    },
  });

  /** What must hold for a deployment to run: its version, active environment and applications. */
  const targetChecks = (deployment: Deployment): TaggedWrite<TargetTag>[] => [
    existence('version', ENTITY.version, deployment.version_id),
    {
      tag: 'environment',
      write: {
        ConditionCheck: {
          TableName: tableName,
          Key: entityKey(ENTITY.environment, deployment.environment_id),
          ConditionExpression: 'attribute_exists(pk) AND is_active = :true',
          ExpressionAttributeValues: { ':true': true },
        },
      },
    },
    ...deployment.application_ids.map((id) => existence(`application:${id}`, ENTITY.application, id)),
  ];

  /** The error a failed target check stands for; the environment's own item tells which of its checks failed. */
  function targetRejection(deployment: Deployment, failure: FailedCondition): Error | undefined {
    if (failure.tag === 'version') return new NotFound('Version', deployment.version_id);
    if (failure.tag === 'environment') {
      return failure.item
        ? new Conflict(`Environment ${deployment.environment_id} is not active`, {
            environment_id: deployment.environment_id,
          })
        : new NotFound('Environment', deployment.environment_id);
    }
    if (failure.tag.startsWith('application:')) {
      return new NotFound('Application', failure.tag.slice('application:'.length));
    }
    return undefined;
  }

  async function failTask(task: Task, result: string, at: string): Promise<void> {
    let status: unknown = task.status;
    // A task the workflow moves meanwhile (pending → running) is failed from where it is now.
    for (let attempt = 0; attempt < 4 && isUnfinished(status); attempt += 1) {
      const outcome = await writeTransaction(
        context,
        transitionWrites(
          'task',
          ENTITY.task,
          task.id,
          status,
          'failed',
          { type: task.type },
          // A running task may hold an agent output the workflow had not yet checked (docs/workflows.md).
          { set: { result: ':result', completed_at: ':now' }, remove: ['pending_result'] },
          { ':result': result, ':now': at },
        ),
      );
      if (outcome.ok) return;
      status = outcome.failed.find((failure) => failure.tag === 'task')?.item?.status;
    }
  }

  return {
    async create({ record, tasks }) {
      const { deployment } = record;
      const taskCounters = mergeCounterChanges(
        tasks
          .map((task) => ({ type: task.type }))
          .flatMap((values) => counterChanges(ENTITY.task, undefined, { ...values, status: 'pending' })),
      );
      const outcome = await writeTransaction(context, [
        lock.acquire(deployment.environment_id, deployment.id),
        ...targetChecks(deployment),
        {
          tag: 'deployment',
          write: {
            Put: {
              TableName: tableName,
              Item: deploymentItem(record),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        },
        ...tasks.map((task) => ({
          tag: 'task',
          write: { Put: { TableName: tableName, Item: taskItem(task) } },
        })),
        ...counterWrites(tableName, [
          ...counterChanges(ENTITY.deployment, undefined, {
            ...deploymentCounterValues(deployment),
            status: 'pending',
          }),
          ...taskCounters,
        ]),
      ]);
      if (outcome.ok) return;
      for (const failure of outcome.failed) {
        if (failure.tag === 'lock') {
          throw new EnvironmentBusy(deployment.environment_id, lock.holderOf(failure.item));
        }
        const rejection = targetRejection(deployment, failure);
        if (rejection) throw rejection;
      }
      throw new ConcurrentModification(`Deployment ${deployment.id} exists already`);
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
      ),

    lockHolder: (environmentId) => lock.holder(environmentId),

    async finishAsFailed(record, message, at) {
      const { deployment } = record;
      let status: unknown = deployment.status;
      for (let attempt = 0; attempt < 4 && isUnfinished(status); attempt += 1) {
        const outcome = await writeTransaction(context, [
          ...transitionWrites(
            'deployment',
            ENTITY.deployment,
            deployment.id,
            status,
            'failed',
            deploymentCounterValues(deployment),
            { set: { error_message: ':message', completed_at: ':now' } },
            { ':message': message, ':now': at },
          ),
          lock.release(deployment.environment_id, deployment.id),
        ]);
        if (outcome.ok) return true;
        const failure = outcome.failed.find((candidate) => candidate.tag === 'deployment');
        if (!failure) {
          // The lock is another deployment's: this one's was released already; fail it alone.
          throw new ConcurrentModification(
            `Deployment ${deployment.id} does not hold its environment's lock`,
          );
        }
        status = failure.item?.status;
      }
      // Finished already; but a stop can land after the workflow's last status write and
      // before its lock release, so the lock may still be held by this finished deployment.
      await writeTransaction(context, [
        {
          tag: 'finished',
          write: {
            ConditionCheck: {
              TableName: tableName,
              Key: entityKey(ENTITY.deployment, deployment.id),
              ConditionExpression: '#status IN (:success, :failed)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':success': 'success', ':failed': 'failed' },
            },
          },
        },
        lock.release(deployment.environment_id, deployment.id),
      ]);
      return false;
    },

    async failUnfinishedTasks(taskIds, result, at) {
      const tasks: Task[] = [];
      // BatchGetItem takes 100 keys; a deployment has at most 10 applications × its steps.
      for (let start = 0; start < taskIds.length; start += 100) {
        const keys: Record<string, unknown>[] = taskIds
          .slice(start, start + 100)
          .map((id) => ({ ...entityKey(ENTITY.task, id) }));
        let request:
          | Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }>
          | undefined = {
          [tableName]: { Keys: keys, ConsistentRead: true },
        };
        while (request && Object.keys(request).length > 0) {
          const answer: BatchGetCommandOutput = await context.client.send(
            new BatchGetCommand({ RequestItems: request }),
          );
          tasks.push(
            ...(answer.Responses?.[tableName] ?? []).map((item: Record<string, unknown>) => Task.parse(item)),
          );
          const left: Record<string, unknown>[] | undefined = answer.UnprocessedKeys?.[tableName]?.Keys;
          request =
            left && left.length > 0 ? { [tableName]: { Keys: left, ConsistentRead: true } } : undefined;
        }
      }
      await Promise.all(
        tasks.filter((task) => UNFINISHED.includes(task.status)).map((task) => failTask(task, result, at)),
      );
    },

    async resume(record, task, at) {
      const { deployment } = record;
      const outcome = await writeTransaction(context, [
        ...transitionWrites(
          'task',
          ENTITY.task,
          task.id,
          'failed',
          'pending',
          { type: task.type },
          { set: { result: ':empty', started_at: ':null', completed_at: ':null' } },
          { ':empty': '', ':null': null, ':now': at },
        ),
        ...transitionWrites(
          'deployment',
          ENTITY.deployment,
          deployment.id,
          'failed',
          'running',
          deploymentCounterValues(deployment),
          {
            set: { error_message: ':empty', completed_at: ':null', resumes: ':next' },
            condition: '#resumes = :resumes',
            names: ['resumes'],
          },
          {
            ':empty': '',
            ':null': null,
            ':now': at,
            ':resumes': record.resumes,
            ':next': record.resumes + 1,
          },
        ),
        lock.acquire(deployment.environment_id, deployment.id),
        ...targetChecks(deployment),
      ]);
      if (outcome.ok) return;
      for (const failure of outcome.failed) {
        if (failure.tag === 'lock') {
          throw new EnvironmentBusy(deployment.environment_id, lock.holderOf(failure.item));
        }
      }
      for (const failure of outcome.failed) {
        const rejection = targetRejection(deployment, failure);
        if (rejection) throw rejection;
      }
      throw new ConcurrentModification(
        `Task ${task.id} or its deployment changed meanwhile; read them again`,
      );
    },
  };
}
