import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentStatus } from '../../lambdas/domain/deployment';
import type { Task, TaskStatus } from '../../lambdas/domain/task';
import { createDeploymentRepository, deploymentItem } from '../../lambdas/store/deployment-repository';
import { environmentLockKey } from '../../lambdas/store/keys';
import { createTaskRepository, taskItem } from '../../lambdas/store/task-repository';
import { ensureTable, startDynamoDbLocal } from '../../local/dynamodb-local';
import { freePort } from '../../local/free-port';
import {
  failInterruptedDeployments,
  INTERRUPTED_MESSAGE,
  INTERRUPTED_TASK_RESULT,
  isStartAborted,
  LocalStackError,
  prepareDataDir,
} from '../../local/stack';
import { isJava, processTree } from '../e2e/support/processes';
import { useTestTable } from '../support/dynamodb';

let scratch = '';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'local-stack-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('prepareDataDir', () => {
  it('creates the folder, nested levels included, and leaves no probe behind', async () => {
    const folder = join(scratch, 'a', 'b', 'c');
    expect(await prepareDataDir(folder)).toBe(folder);
    expect((await stat(folder)).isDirectory()).toBe(true);
    expect(await prepareDataDir(folder)).toBe(folder);
    expect(await readdir(folder)).toEqual([]);
  });

  it('refuses a file, or a path below a file, with a one-line LocalStackError', async () => {
    const file = join(scratch, 'file');
    await writeFile(file, 'x');
    for (const path of [file, join(file, 'below')]) {
      const refusal = prepareDataDir(path);
      await expect(refusal).rejects.toBeInstanceOf(LocalStackError);
      await expect(prepareDataDir(path)).rejects.toThrow(
        `DATA_DIR ${path} cannot hold the database (it is not a folder); set DATA_DIR to a folder you can write, or unset it to keep data in memory`,
      );
    }
  });
});

describe('startDynamoDbLocal', () => {
  it('kills the Java process when the start is aborted', async () => {
    const controller = new AbortController();
    const starting = startDynamoDbLocal({ port: await freePort(), signal: controller.signal });
    // Java is spawned synchronously by the call: it is in this process's tree now.
    expect(processTree(process.pid).some(isJava)).toBe(true);
    controller.abort();
    const error = await starting.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isStartAborted(error)).toBe(true);
    expect(processTree(process.pid).some(isJava)).toBe(false);
  });

  it('does not start at all with an aborted signal', async () => {
    await expect(
      startDynamoDbLocal({ port: await freePort(), signal: AbortSignal.abort() }),
    ).rejects.toSatisfy(isStartAborted);
    expect(processTree(process.pid).some(isJava)).toBe(false);
  });
});

describe('failInterruptedDeployments', () => {
  const table = useTestTable();
  const store = () => ({ client: table.documentClient, tableName: table.tableName });
  const at = '2024-10-24T10:00:00Z';
  let counter = 0;

  function task(deploymentId: string, type: string, status: TaskStatus, dependsOn: string[]): Task {
    counter += 1;
    return {
      id: `task_${String(counter).padStart(4, '0')}`,
      deployment_id: deploymentId,
      type,
      status,
      payload: '{}',
      result: status === 'success' ? '{"done":true}' : '',
      created_at: at,
      updated_at: at,
      started_at: status === 'pending' ? null : at,
      completed_at: status === 'success' ? at : null,
      application_id: 'app_1',
      step_id: type,
      depends_on: dependsOn,
      attempt: status === 'pending' ? 0 : 1,
    };
  }

  /** A deployment in `status` with a chain of tasks in the given statuses. */
  async function seed(id: string, status: DeploymentStatus, statuses: TaskStatus[]): Promise<Task[]> {
    const deployment: Deployment = {
      id,
      version_id: 'ver_1',
      application_ids: ['app_1'],
      environment_id: `env_of_${id}`,
      status,
      created_by: 'a@example.com',
      created_at: at,
      updated_at: at,
      started_at: status === 'pending' ? null : at,
      completed_at: status === 'success' ? at : null,
      error_message: '',
      strategy: 'standard',
      rollback_of: null,
    };
    const { client, tableName } = store();
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: deploymentItem({ deployment, executionInput: '{}', resumes: 0 }),
      }),
    );
    if (status === 'pending' || status === 'running') {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...environmentLockKey(deployment.environment_id), deployment_id: id },
        }),
      );
    }
    const tasks: Task[] = [];
    for (const [index, taskStatus] of statuses.entries()) {
      const previous = tasks[index - 1];
      const created = task(
        id,
        ['build', 'test', 'deploy', 'health_check'][index] ?? 'x',
        taskStatus,
        previous ? [previous.id] : [],
      );
      tasks.push(created);
      await client.send(new PutCommand({ TableName: tableName, Item: taskItem(created) }));
    }
    return tasks;
  }

  it('fails unfinished deployments and the tasks in progress or ready, frees their environments', async () => {
    await seed('dep_running', 'running', ['success', 'running', 'pending', 'pending']);
    await seed('dep_pending', 'pending', ['pending', 'pending', 'pending', 'pending']);
    await seed('dep_done', 'success', ['success', 'success', 'success', 'success']);

    const interrupted = await failInterruptedDeployments(store());
    expect(interrupted.sort()).toEqual(['dep_pending', 'dep_running']);

    const deployments = createDeploymentRepository(store());
    const tasks = createTaskRepository(store());
    for (const id of ['dep_running', 'dep_pending']) {
      const record = await deployments.getById(id);
      expect(record?.deployment).toMatchObject({ status: 'failed', error_message: INTERRUPTED_MESSAGE });
      expect(record?.deployment.completed_at).toMatch(/Z$/);
      expect(await deployments.lockHolder(`env_of_${id}`)).toBeUndefined();
    }
    const statuses = async (id: string) =>
      (await tasks.getByDeploymentId(id))
        .sort((left, right) => left.id.localeCompare(right.id))
        .map((item) => item.status);
    expect(await statuses('dep_running')).toEqual(['success', 'failed', 'pending', 'pending']);
    expect(await statuses('dep_pending')).toEqual(['failed', 'pending', 'pending', 'pending']);
    expect(await statuses('dep_done')).toEqual(['success', 'success', 'success', 'success']);
    const failedTask = (await tasks.getByDeploymentId('dep_running')).find((item) => item.type === 'test');
    expect(failedTask?.result).toBe(INTERRUPTED_TASK_RESULT);
    expect(JSON.parse(INTERRUPTED_TASK_RESULT)).toMatchObject({ error: 'Interrupted' });
    expect((await deployments.getById('dep_done'))?.deployment.status).toBe('success');

    // Nothing left to do a second time.
    expect(await failInterruptedDeployments(store())).toEqual([]);
  });
});

describe('ensureTable', () => {
  const table = useTestTable();

  it('says whether it created the table', async () => {
    expect(await ensureTable(table.client, table.tableName)).toBe(false);
    const name = `${table.tableName}-second`;
    expect(await ensureTable(table.client, name)).toBe(true);
    expect(await ensureTable(table.client, name)).toBe(false);
    await table.client.send(new DeleteTableCommand({ TableName: name }));
  });
});
