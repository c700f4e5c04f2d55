import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type TaskLogLine, taskLogChunkItem } from '../../lambdas/agent-protocol';
import { TaskLogResponse } from '../../lambdas/domain/task-log';
import { callApi, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor } from '../support/fake-workflows';

/** GET /tasks/{id}/logs reads what agents write under TASKLOG#<task id>, in order, from a cursor. */
const table = useTestTable();
const world = deploymentWorld(table);

const line = (text: string, stream: TaskLogLine['stream'] = 'stdout'): TaskLogLine => ({
  at: '2026-12-01T10:00:00.000Z',
  stream,
  text,
});

/** What an agent's log sink does: one PutItem per flushed chunk. */
const write = (taskId: string, attempt: number, chunk: number, lines: TaskLogLine[]) =>
  table.documentClient.send(
    new PutCommand({
      TableName: table.tableName,
      Item: taskLogChunkItem(taskId, attempt, chunk, lines, Date.now()),
    }),
  );

const read = async (taskId: string, query: Record<string, string> = {}) => {
  const answer = await callApi(world.handlers.tasks, {
    method: 'GET',
    path: `/api/v1/tasks/${taskId}/logs`,
    query,
    claims: READER,
  });
  return answer;
};

async function aTask() {
  const scene = await world.scene(1);
  const created = await world.deploy(requestFor(scene));
  const [task] = await world.repositories.tasks.getByDeploymentId(created.id);
  if (!task) throw new Error('a deployment has tasks');
  return { created, task };
}

describe('GET /api/v1/tasks/{id}/logs', () => {
  it('answers the lines in order across chunks and attempts, then only what came after the cursor', async () => {
    const { task } = await aTask();
    const empty = TaskLogResponse.parse((await read(task.id)).body);
    expect(empty).toMatchObject({ task_id: task.id, lines: [], complete: false });

    await write(task.id, 1, 0, [line('$ git clone', 'agent'), line('Cloning into app...')]);
    await write(task.id, 1, 1, [line('error: build failed', 'stderr')]);
    const first = TaskLogResponse.parse((await read(task.id, { cursor: empty.next_cursor })).body);
    expect(first.lines.map((each) => [each.attempt, each.stream, each.text])).toEqual([
      [1, 'agent', '$ git clone'],
      [1, 'stdout', 'Cloning into app...'],
      [1, 'stderr', 'error: build failed'],
    ]);

    await write(task.id, 2, 0, [line('retrying')]);
    const next = TaskLogResponse.parse((await read(task.id, { cursor: first.next_cursor })).body);
    expect(next.lines).toEqual([
      { attempt: 2, at: '2026-12-01T10:00:00.000Z', stream: 'stdout', text: 'retrying' },
    ]);
    const nothingNew = TaskLogResponse.parse((await read(task.id, { cursor: next.next_cursor })).body);
    expect(nothingNew.lines).toEqual([]);
    expect(nothingNew.next_cursor).toBe(next.next_cursor);
  });

  it('is complete once the task finished and every line was read', async () => {
    const { created, task } = await aTask();
    await write(task.id, 1, 0, [line('done')]);
    await world.succeed(created.id);
    const answer = TaskLogResponse.parse((await read(task.id, { limit: '1' })).body);
    expect(answer.lines).toHaveLength(1);
    const after = TaskLogResponse.parse((await read(task.id, { cursor: answer.next_cursor })).body);
    expect(after).toMatchObject({ lines: [], complete: true });
  });

  it('answers 404 for an unknown task and 400 for a cursor it did not hand out', async () => {
    const { task } = await aTask();
    expect((await read('task_00000000000000000000000000')).status).toBe(404);
    const forged = await read(task.id, { cursor: 'bm90LWEtY3Vyc29y' });
    expect(forged.status).toBe(400);
    expect(JSON.stringify(forged.body)).toContain('cursor');
  });
});
