import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Page, PageRequest } from '../domain/common';
import { Task, type TaskStatus } from '../domain/task';
import { ENTITY, entityKey, filterPartition, indexAttributes } from './keys';
import { listPage } from './list-query';
import { queryPages } from './query-pages';
import type { StoreContext } from './store-context';
import { INDEXES } from './table-definition';

export interface TaskFilter extends PageRequest {
  readonly deployment_id?: string;
  readonly status?: TaskStatus;
  readonly type?: string;
}

export interface TaskRepository {
  getById(id: string): Promise<Task | undefined>;
  list(filter: TaskFilter): Promise<Page<Task>>;
  getByDeploymentId(deploymentId: string): Promise<Task[]>;
}

/** The stored form of a task; the workflow's states update `status`, its STATUS_INDEX partition and timestamps in place. */
export const taskItem = (task: Task): Record<string, unknown> => ({
  ...entityKey(ENTITY.task, task.id),
  ...indexAttributes(ENTITY.task, task.id, {
    deployment_id: task.deployment_id,
    status: task.status,
    type: task.type,
  }),
  ...task,
});

export const taskFromItem = (item: Record<string, unknown>): Task => Task.parse(item);

export function createTaskRepository(context: StoreContext): TaskRepository {
  return {
    async getById(id) {
      const { Item } = await context.client.send(
        new GetCommand({
          TableName: context.tableName,
          Key: entityKey(ENTITY.task, id),
          ConsistentRead: true,
        }),
      );
      return Item ? taskFromItem(Item) : undefined;
    },
    list: (filter) =>
      listPage(
        context,
        ENTITY.task,
        { deployment_id: filter.deployment_id, status: filter.status, type: filter.type },
        filter,
        taskFromItem,
      ),
    async getByDeploymentId(deploymentId) {
      const tasks: Task[] = [];
      for await (const page of queryPages(context, {
        TableName: context.tableName,
        IndexName: INDEXES.byFilter1.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.byFilter1.partitionKey },
        ExpressionAttributeValues: { ':pk': filterPartition(ENTITY.task, 'deployment_id', deploymentId) },
      })) {
        tasks.push(...(page.Items ?? []).map(taskFromItem));
      }
      return tasks.sort((left, right) => left.id.localeCompare(right.id));
    },
  };
}
