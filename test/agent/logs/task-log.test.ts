import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../../agent/logs/secret-masker';
import { MAX_CHUNK_LINES, MAX_CHUNK_TEXT_BYTES, TaskLogWriter } from '../../../agent/logs/task-log';
import {
  DynamoDbTaskLogSink,
  MemoryTaskLogSink,
  type TaskLogChunk,
  type TaskLogSink,
} from '../../../agent/logs/task-log-sink';
import { useTestTable } from '../../support/dynamodb';
import { eventually } from '../support/processes';

const writer = (sink: TaskLogSink, options: Partial<ConstructorParameters<typeof TaskLogWriter>[0]> = {}) =>
  new TaskLogWriter({ taskId: 'task_1', attempt: 1, sink, masker: new SecretMasker(), ...options });

describe('task log writer', () => {
  it('splits output into lines per stream, keeps agent lines apart and writes chunks in order', async () => {
    const sink = new MemoryTaskLogSink();
    const log = writer(sink);
    log.info('cloning repo');
    log.output('stdout', 'first li');
    log.output('stderr', 'warn: x\n');
    log.output('stdout', 'ne\r\nsecond line\nno newline at the end');
    await log.close();
    expect(sink.lines('task_1').map(({ stream, text }) => [stream, text])).toEqual([
      ['agent', 'cloning repo'],
      ['stderr', 'warn: x'],
      ['stdout', 'first line'],
      ['stdout', 'second line'],
      ['stdout', 'no newline at the end'],
    ]);
    const [line] = sink.lines('task_1');
    expect(line?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('writes while the task runs, not only at the end', async () => {
    const sink = new MemoryTaskLogSink();
    const log = writer(sink, { flushIntervalMs: 50 });
    log.output('stdout', 'building step 1/3\n');
    await eventually(() => sink.text('task_1').includes('building step 1/3'));
    await log.close();
  });

  it('masks secrets, also when one arrives split across two pieces of output', async () => {
    const sink = new MemoryTaskLogSink();
    const masker = new SecretMasker();
    masker.add('hunter2-is-the-password');
    masker.add('-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----\n');
    const log = writer(sink, { masker, flushIntervalMs: 20 });
    log.output('stdout', `progress: ${'#'.repeat(100)} login with hunter2-is-`);
    // The partial line waits; once flushed, only text that cannot start the secret was written.
    await eventually(() => sink.chunks.length > 0);
    log.output('stdout', 'the-password done\nkey line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n');
    await log.close();
    const text = sink.lines('task_1').map((line) => line.text);
    expect(text.join('')).toContain('login with ***');
    expect(text.join('')).toContain('key line ***');
    for (const line of text) {
      expect(line).not.toContain('hunter2');
      expect(line).not.toContain('MIIEvQ');
    }
  });

  it('caps an attempt: past the limit one line says how many bytes were dropped', async () => {
    const sink = new MemoryTaskLogSink();
    const log = writer(sink, { maxBytes: 1_000 });
    for (let index = 0; index < 30; index += 1) log.output('stdout', `${String(index).padStart(99, '.')}\n`);
    await log.close();
    const lines = sink.lines('task_1');
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toMatchObject({
      stream: 'agent',
      text: 'log truncated: 1980 bytes dropped past the limit of 1000 bytes for this attempt',
    });
  });

  it('keeps every item within 500 lines and 60 KiB of text', async () => {
    const sink = new MemoryTaskLogSink();
    const log = writer(sink);
    for (let index = 0; index < 1_200; index += 1) log.output('stdout', `line ${index}\n`);
    for (let index = 0; index < 20; index += 1) log.output('stderr', `${'x'.repeat(10_000)}\n`);
    await log.close();
    expect(sink.chunks.map((chunk) => chunk.chunk)).toEqual(sink.chunks.map((_, index) => index));
    for (const chunk of sink.chunks) {
      expect(chunk.lines.length).toBeLessThanOrEqual(MAX_CHUNK_LINES);
      expect(chunk.bytes).toBeLessThanOrEqual(MAX_CHUNK_TEXT_BYTES);
    }
    expect(sink.lines('task_1')).toHaveLength(1_200 + 40);
  });

  it('never fails the task when writes fail: it retries, reports, and moves on', async () => {
    let tries = 0;
    const failing: TaskLogSink = {
      write: async () => {
        tries += 1;
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    const reported: number[] = [];
    const log = writer(failing, {
      retryDelaysMs: [0, 0],
      onWriteError: (_error, chunk) => reported.push(chunk),
    });
    log.info('one');
    await expect(log.close()).resolves.toBeUndefined();
    expect(tries).toBe(3);
    expect(reported).toEqual([0]);
  });
});

describe('DynamoDB task log sink (DynamoDB Local)', () => {
  const table = useTestTable();

  it('puts one item per chunk under TASKLOG#<task_id>, A<attempt>#<chunk>, expiring after the retention', async () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const sink = new DynamoDbTaskLogSink(table.documentClient, table.tableName, 30, () => now);
    const chunk: TaskLogChunk = {
      taskId: 'task_01abc',
      attempt: 2,
      chunk: 7,
      lines: [{ at: '2026-12-01T12:00:00.000Z', stream: 'stdout', text: 'hello' }],
      bytes: 5,
    };
    await sink.write(chunk);
    const { Item } = await table.documentClient.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { pk: 'TASKLOG#task_01abc', sk: 'A0002#0000000007' },
      }),
    );
    expect(Item).toEqual({
      pk: 'TASKLOG#task_01abc',
      sk: 'A0002#0000000007',
      task_id: 'task_01abc',
      attempt: 2,
      chunk: 7,
      lines: [{ at: '2026-12-01T12:00:00.000Z', stream: 'stdout', text: 'hello' }],
      bytes: 5,
      expires_at: now / 1000 + 30 * 86_400,
    });
  });
});
