import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import {
  counterKey,
  ENTITY,
  type EntityName,
  entityKey,
  environmentLockKey,
  FILTER_SLOTS,
  indexAttributes,
} from '../../lambdas/store/keys';
import { planList } from '../../lambdas/store/list-query';
import { INDEX_LIST } from '../../lambdas/store/table-definition';
import { createUsageGuard } from '../../lambdas/store/usage-guard';

const DOC = new URL('../../docs/data-model.md', import.meta.url);
const markdown = await readFile(DOC, 'utf8');

type Row = Readonly<Record<string, string>>;

const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());

/** The rows of the markdown table whose header starts with `firstHeader`, keyed by header. */
function table(firstHeader: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|') && cellsOf(line)[0] === firstHeader);
  if (start < 0) throw new Error(`docs/data-model.md has no table starting with "${firstHeader}"`);
  const headers = cellsOf(lines[start] ?? '');
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = cellsOf(line);
    rows.push(Object.fromEntries(headers.map((header, index) => [header, cells[index] ?? ''])));
  }
  return rows;
}

/** The `code spans` of a cell. */
const code = (cell: string | undefined): string[] =>
  [...(cell ?? '').matchAll(/`([^`]+)`/g)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));

const ENTITIES = Object.values(ENTITY);
const placeholders = (attributes: readonly string[]) =>
  Object.fromEntries(attributes.map((attribute) => [attribute, `<${attribute}>`]));

/** Every non-empty subset of an entity's filters, in FILTER_SLOTS order. */
function filterCombinations(entity: EntityName): string[][] {
  const slots: readonly string[] = FILTER_SLOTS[entity];
  const combinations: string[][] = [];
  for (let mask = 1; mask < 1 << slots.length; mask += 1) {
    combinations.push(slots.filter((_, index) => (mask & (1 << index)) !== 0));
  }
  return combinations;
}

const filtersOf = (cell: string | undefined): string[] =>
  (cell ?? '')
    .split('+')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .sort();

const patterns = table('#');

function listRow(entity: EntityName, filters: readonly string[]): Row {
  const wanted = filters.length === 0 ? ['(none)'] : [...filters].sort();
  const matches = patterns.filter(
    (row) => row.entity === entity && filtersOf(row.filters).join() === wanted.join(),
  );
  expect(matches, `one access-pattern row for ${entity} filtered by ${wanted.join(' + ')}`).toHaveLength(1);
  const [row] = matches;
  if (!row) throw new Error('unreachable');
  return row;
}

describe('docs/data-model.md access patterns', () => {
  it.each(ENTITIES)('documents the unfiltered list of %s with the index planList uses', (entity) => {
    const plan = planList(entity, {});
    const row = listRow(entity, []);
    expect(row.index).toBe(plan.indexName);
    expect(code(row['key condition'])).toContain(`${plan.partitionKey} = ${plan.partition}`);
  });

  it.each(
    ENTITIES.flatMap((entity) => filterCombinations(entity).map((filters) => [entity, filters] as const)),
  )(
    'documents %s filtered by %j with the index, key condition and residual filter planList uses',
    (entity, filters) => {
      const plan = planList(entity, placeholders(filters));
      const row = listRow(entity, filters);
      expect(row.index).toBe(plan.indexName);
      expect(code(row['key condition'])).toContain(`${plan.partitionKey} = ${plan.partition}`);
      const notes = row['filter expression / notes'] ?? '';
      if (plan.residual.length === 0) {
        expect(notes).not.toContain('FilterExpression');
      } else {
        const expression = plan.residual.map(([attribute], position) => `${attribute} = :f${position}`);
        expect(code(notes)).toContain(expression.join(' AND '));
      }
    },
  );

  it.each(ENTITIES)('documents getting a %s by id from the table', (entity) => {
    const key = entityKey(entity, '<id>');
    const row = patterns.find(
      (candidate) =>
        candidate.entity === entity &&
        candidate.filters === '—' &&
        /^get /.test(candidate['access pattern'] ?? ''),
    );
    expect(row?.index).toBe('table');
    expect(code(row?.['key condition'])).toEqual([`pk = ${key.pk}`, `sk = ${key.sk}`]);
  });

  it('documents the environment lock and the counters with their real keys', () => {
    const lock = environmentLockKey('<environment_id>');
    expect(
      patterns.some((row) => code(row['key condition']).join() === `pk = ${lock.pk},sk = ${lock.sk}`),
    ).toBe(true);
    const counter = counterKey('<partition>');
    expect(
      patterns.some((row) => code(row['key condition']).join() === `pk = ${counter.pk},sk = ${counter.sk}`),
    ).toBe(true);
  });

  it('documents the usage guard with the queries it really sends', async () => {
    const client = mockClient(DynamoDBDocumentClient);
    client.on(QueryCommand).resolves({ Items: [] });
    const guard = createUsageGuard({
      client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      tableName: 'table',
    });
    await guard.assertUnused('version', 'ver_x');
    const sent = client.commandCalls(QueryCommand).map((call) => call.args[0].input);
    client.restore();
    const row = patterns.find((candidate) =>
      /^unfinished deployments using/.test(candidate['access pattern'] ?? ''),
    );
    expect(sent.length).toBeGreaterThan(0);
    for (const input of sent) {
      expect(row?.index).toBe(input.IndexName);
      const partitionKey = input.ExpressionAttributeNames?.['#pk'];
      const partition = input.ExpressionAttributeValues?.[':pk'];
      expect(code(row?.['key condition'])).toContain(`${String(partitionKey)} = ${String(partition)}`);
    }
  });

  it('uses every index in at least one pattern', () => {
    const used = new Set(patterns.map((row) => row.index));
    for (const index of INDEX_LIST) expect(used, index.indexName).toContain(index.indexName);
  });
});

describe('docs/data-model.md keys and indexes', () => {
  it('lists exactly the indexes of table-definition.ts with their keys', () => {
    const documented = table('index').map((row) => [row.index, row['partition key'], row['sort key']]);
    expect(documented).toEqual(
      INDEX_LIST.map((index) => [index.indexName, index.partitionKey, index.sortKey]),
    );
  });

  it.each(ENTITIES)('gives the %s item its real key and index attributes', (entity) => {
    const row = table('item').find((candidate) => candidate.item === entity.toLowerCase());
    const key = entityKey(entity, '<id>');
    expect(code(row?.pk)).toEqual([key.pk]);
    expect(code(row?.sk)).toEqual([key.sk]);
    const attributes = indexAttributes(entity, '<id>', placeholders(FILTER_SLOTS[entity]));
    expect(code(row?.['index attributes']).sort()).toEqual(
      Object.entries(attributes)
        .map(([name, value]) => `${name} = ${value}`)
        .sort(),
    );
  });

  it('gives the lock and counter items their real keys', () => {
    const items = table('item');
    const lock = items.find((row) => row.item === 'environment lock');
    expect([code(lock?.pk), code(lock?.sk)]).toEqual([
      [environmentLockKey('<environment_id>').pk],
      [environmentLockKey('<environment_id>').sk],
    ]);
    const counter = items.find((row) => row.item === 'counter');
    expect([code(counter?.pk), code(counter?.sk)]).toEqual([
      [counterKey('<partition>').pk],
      [counterKey('<partition>').sk],
    ]);
  });
});
