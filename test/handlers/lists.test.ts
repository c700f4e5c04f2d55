import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApplicationsHandler } from '../../lambdas/api/applications';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { ApplicationListResponse } from '../../lambdas/domain/application';
import { VersionListResponse } from '../../lambdas/domain/version';
import { createApplicationService } from '../../lambdas/services/application-service';
import { createVersionService } from '../../lambdas/services/version-service';
import { createApplicationRepository } from '../../lambdas/store/application-repository';
import { backfillCounters } from '../../lambdas/store/counter-backfill';
import { counterKey } from '../../lambdas/store/keys';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import { ADMIN, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';

/**
 * What every list shares: totals from counters (also for combined filters), strict paging
 * parameters, and cursors that page through a list being written without duplicates or gaps.
 */

const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };
const usage = createUsageGuard(store);
const versions = createVersionsHandler(createVersionService(createVersionRepository(store), usage));
const applications = createApplicationsHandler(
  createApplicationService(createApplicationRepository(store), usage),
);

let unique = 0;
const fresh = (what: string) => {
  unique += 1;
  return `${what}-${Date.now()}-${unique}`;
};

const createVersion = async (repository: string, index: number) => {
  const answer = await callApi(versions, {
    method: 'POST',
    path: '/api/v1/versions',
    body: { git_tag: `v1.0.${index}`, git_commit: 'abc123def456', repository },
    claims: DEPLOYER,
  });
  expect(answer.status).toBe(201);
};

const listVersions = async (query: Record<string, string>) =>
  callApi(versions, { method: 'GET', path: '/api/v1/versions', query, claims: READER });

describe('list paging', () => {
  it('pages with a cursor through a list that grows meanwhile: every item once, in order, none skipped', async () => {
    const repository = `https://github.com/org/${fresh('cursor')}`;
    for (let index = 0; index < 7; index += 1) await createVersion(repository, index);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await listVersions({ repository, page_size: '3', ...(cursor ? { cursor } : {}) });
      expect(answer.status).toBe(200);
      const page = VersionListResponse.parse(answer.body);
      pages += 1;
      expect(page.page).toBe(pages);
      seen.push(...page.versions.map((version) => version.id));
      cursor = page.next_cursor ?? undefined;
      // Newer items land before the first page: a cursor never meets them again.
      await createVersion(repository, 100 + pages);
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(pages).toBe(3);
  });

  it('lists oldest first with sort=oldest, and the last page has no next cursor', async () => {
    const repository = `https://github.com/org/${fresh('order')}`;
    for (let index = 0; index < 3; index += 1) await createVersion(repository, index);
    const oldest = VersionListResponse.parse((await listVersions({ repository, sort: 'oldest' })).body);
    const newest = VersionListResponse.parse((await listVersions({ repository })).body);
    expect(oldest.versions.map((version) => version.git_tag)).toEqual(['v1.0.0', 'v1.0.1', 'v1.0.2']);
    expect(newest.versions.map((version) => version.id)).toEqual(
      oldest.versions.map((version) => version.id).reverse(),
    );
    expect(oldest.next_cursor).toBeNull();
  });

  it.each([
    ['page', '1e2'],
    ['page', '0x10'],
    ['page', ' 2'],
    ['page', '2.0'],
    ['page', '-1'],
    ['page_size', '+5'],
    ['page_size', '1_0'],
  ])('refuses %s=%j: decimal integers only', async (name, value) => {
    const answer = await listVersions({ [name]: value });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain(`${name} must be a whole number`);
  });

  it('refuses a cursor it did not hand out, or one of another list, with 400 naming the cursor', async () => {
    const repository = `https://github.com/org/${fresh('forged')}`;
    for (let index = 0; index < 3; index += 1) await createVersion(repository, index);
    const first = VersionListResponse.parse((await listVersions({ repository, page_size: '1' })).body);
    const cursor = first.next_cursor;
    if (!cursor) throw new Error('a next page exists');
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      k: Record<string, string>;
    };
    const forgedKey = Buffer.from(
      JSON.stringify({ ...decoded, k: { ...decoded.k, gsi2pk: 'TASK#status=failed' } }),
    ).toString('base64url');
    for (const [query, message] of [
      [{ repository, cursor: 'not-a-cursor' }, 'not a cursor this API handed out'],
      [{ repository, cursor: forgedKey }, 'not a cursor this API handed out'],
      [{ cursor }, 'belongs to another list'],
      [{ repository, sort: 'oldest', cursor }, 'belongs to another list'],
      [{ repository, cursor: 'x'.repeat(3000) }, 'cursor'],
    ] as const) {
      const answer = await listVersions(query);
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(message);
    }
  });
});

describe('list totals', () => {
  it('answer a combined filter from its own counter, kept exact through create, update and delete', async () => {
    const repository = `https://github.com/org/${fresh('combined')}`;
    const type = fresh('type').toLowerCase();
    const ids: string[] = [];
    for (const [name, kind] of [
      ['a', type],
      ['b', type],
      ['c', 'other'],
    ] as const) {
      const answer = await callApi(applications, {
        method: 'POST',
        path: '/api/v1/applications',
        body: { name: fresh(name), repository, type: kind, config: {} },
        claims: ADMIN,
      });
      expect(answer.status).toBe(201);
      ids.push(String((answer.body as { id: string }).id));
    }
    const list = async (query: Record<string, string>) =>
      ApplicationListResponse.parse(
        (await callApi(applications, { method: 'GET', path: '/api/v1/applications', query, claims: READER }))
          .body,
      );
    expect((await list({ repository, type })).total).toBe(2);
    expect((await list({ repository })).total).toBe(3);

    const [first] = ids;
    await callApi(applications, {
      method: 'PUT',
      path: `/api/v1/applications/${first}`,
      body: { name: fresh('a2'), type: 'other', config: {} },
      claims: ADMIN,
    });
    expect((await list({ repository, type })).total).toBe(1);
    expect((await list({ repository, type: 'other' })).total).toBe(2);
    await callApi(applications, { method: 'DELETE', path: `/api/v1/applications/${first}`, claims: ADMIN });
    expect((await list({ repository, type: 'other' })).total).toBe(1);

    // One counter read, not a count of the partition: the counter item is what the total says.
    const { Item } = await table.documentClient.send(
      new GetCommand({
        TableName: table.tableName,
        Key: counterKey(`APPLICATION#repository=${repository}&type=other`),
      }),
    );
    expect(Item?.count).toBe(1);
  });
});

describe('backfilling counters', () => {
  it('rebuilds every list counter from the items, as a table written before the counters needs', async () => {
    const repository = `https://github.com/org/${fresh('backfill')}`;
    for (let index = 0; index < 3; index += 1) await createVersion(repository, index);
    const key = counterKey(`VERSION#repository=${repository}`);
    await table.documentClient.send(new DeleteCommand({ TableName: table.tableName, Key: key }));
    expect(VersionListResponse.parse((await listVersions({ repository })).body).total).toBe(0);
    await backfillCounters(store);
    expect(VersionListResponse.parse((await listVersions({ repository })).body).total).toBe(3);
  });
});
