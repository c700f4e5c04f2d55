import { describe, expect, it } from 'vitest';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { Version, VersionListResponse } from '../../lambdas/domain/version';
import { MAX_BODY_BYTES } from '../../lambdas/http/request';
import { createVersionService } from '../../lambdas/services/version-service';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import { ADMIN, type Claims, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';

const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };
const handler = createVersionsHandler(
  createVersionService(createVersionRepository(store), createUsageGuard(store)),
);

const body = {
  git_tag: 'v1.0.0',
  git_commit: 'abc123def456',
  repository: 'https://github.com/org/repo',
  description: 'Release version 1.0.0',
};

const create = (overrides: Record<string, unknown> = {}, claims: Claims = DEPLOYER) =>
  callApi(handler, { method: 'POST', path: '/api/v1/versions', body: { ...body, ...overrides }, claims });

describe('POST /api/v1/versions', () => {
  it('creates a version with the spec fields, an id, the caller as created_by and a UTC timestamp', async () => {
    const answer = await create();
    expect(answer.status).toBe(201);
    const version = Version.parse(answer.body);
    expect(Object.keys(answer.body).sort()).toEqual(
      ['created_at', 'created_by', 'description', 'git_commit', 'git_tag', 'id', 'repository'].sort(),
    );
    expect(version).toMatchObject({ ...body, created_by: 'deployer@example.com' });
    expect(version.id).toMatch(/^ver_[0-9a-z]{26}$/);
    expect(version.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('defaults the description to an empty string', async () => {
    const { description: _omitted, ...withoutDescription } = body;
    const answer = await callApi(handler, {
      method: 'POST',
      path: '/api/v1/versions',
      body: withoutDescription,
    });
    expect(answer.status).toBe(201);
    expect(answer.body.description).toBe('');
  });

  it('names every missing or mistyped field in a 400', async () => {
    const answer = await callApi(handler, {
      method: 'POST',
      path: '/api/v1/versions',
      body: { git_tag: 7, repository: '' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    const fields = (answer.body.error as { details: { field: string }[] }).details.map(
      (issue) => issue.field,
    );
    expect(fields.sort()).toEqual(['git_commit', 'git_tag', 'repository']);
  });

  it('rejects unknown fields, malformed JSON and a non-hex commit', async () => {
    const fieldsOf = (answer: Awaited<ReturnType<typeof create>>) => {
      expect(answer.status).toBe(400);
      return (answer.body.error as { details: { field: string }[] }).details.map((issue) => issue.field);
    };
    expect(fieldsOf(await create({ colour: 'blue' }))).toEqual(['body']);
    expect(fieldsOf(await create({ git_commit: 'not-a-commit!' }))).toEqual(['git_commit']);
    // what agents hand to git and shells: no options, revision syntax or shell words
    for (const git_tag of ['-upload-pack=evil', '$(id)', 'v1..v2', 'v1 v2', 'v1.lock', '.hidden']) {
      expect(fieldsOf(await create({ git_tag })), git_tag).toEqual(['git_tag']);
    }
    for (const repository of ['file:///etc', '/srv/repo', '--upload-pack=evil', 'https://-x/y']) {
      expect(fieldsOf(await create({ repository })), repository).toEqual(['repository']);
    }
    for (const [git_tag, repository] of [
      ['release/2026-11', 'git@github.com:org/repo.git'],
      ['v1.2.3-rc.1+build.5', 'ssh://git@git.example.com/org/repo'],
      ['@scope/pkg@1.2.3', 'https://gitlab.example.com/group/sub/repo.git'],
    ]) {
      expect((await create({ git_tag, repository })).status, git_tag).toBe(201);
    }
    const malformed = await callApi(handler, {
      method: 'POST',
      path: '/api/v1/versions',
      rawBody: '{"git_tag": ',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'body' }] },
    });
  });

  it('answers 413 for a body over 128 KiB', async () => {
    expect(MAX_BODY_BYTES).toBe(128 * 1024);
    const answer = await create({ description: 'x'.repeat(128 * 1024) });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });
});

describe('roles', () => {
  it('lets deployers and admins create, not plain readers', async () => {
    expect((await create({}, ADMIN)).status).toBe(201);
    expect((await create({}, DEPLOYER)).status).toBe(201);
    const denied = await create({}, READER);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('answers 401 without claims, for reads too', async () => {
    const answer = await callApi(handler, { method: 'GET', path: '/api/v1/versions', claims: null });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('lets only admins delete', async () => {
    const created = Version.parse((await create()).body);
    const path = `/api/v1/versions/${created.id}`;
    expect((await callApi(handler, { method: 'DELETE', path, claims: DEPLOYER })).status).toBe(403);
    expect((await callApi(handler, { method: 'DELETE', path, claims: READER })).status).toBe(403);
    expect((await callApi(handler, { method: 'GET', path, claims: READER })).status).toBe(200);
  });
});

describe('GET and DELETE /api/v1/versions/{id}', () => {
  it('returns what was created, then deletes it, then answers 404', async () => {
    const created = Version.parse((await create({ git_tag: 'v9.9.9' })).body);
    const path = `/api/v1/versions/${created.id}`;
    const fetched = await callApi(handler, { method: 'GET', path, claims: READER });
    expect(fetched).toEqual({ status: 200, body: created });

    const deleted = await callApi(handler, { method: 'DELETE', path });
    expect(deleted).toEqual({ status: 200, body: { message: 'Version deleted successfully' } });

    const gone = await callApi(handler, { method: 'GET', path });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await callApi(handler, { method: 'DELETE', path })).status).toBe(404);
  });

  it('answers 405 for a method the resource does not have', async () => {
    const answer = await callApi(handler, { method: 'PUT', path: '/api/v1/versions/ver_x', body: {} });
    expect(answer.status).toBe(405);
  });
});

describe('GET /api/v1/versions', () => {
  const repository = `https://github.com/org/list-${Date.now()}`;

  it('lists newest first, filters by repository, pages with totals', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push(Version.parse((await create({ repository, git_tag: `v${index}` })).body).id);
    }
    const first = VersionListResponse.parse(
      (
        await callApi(handler, {
          method: 'GET',
          path: '/api/v1/versions',
          query: { repository, page_size: '2' },
        })
      ).body,
    );
    expect(first.total).toBe(5);
    expect(first.page).toBe(1);
    expect(first.page_size).toBe(2);
    expect(first.versions.map((version) => version.id)).toEqual([ids[4], ids[3]]);

    const third = VersionListResponse.parse(
      (
        await callApi(handler, {
          method: 'GET',
          path: '/api/v1/versions',
          query: { repository, page: '3', page_size: '2' },
        })
      ).body,
    );
    expect(third.versions.map((version) => version.id)).toEqual([ids[0]]);
    expect(third.total).toBe(5);

    const all = VersionListResponse.parse(
      (await callApi(handler, { method: 'GET', path: '/api/v1/versions' })).body,
    );
    expect(all.page_size).toBe(20);
    expect(all.total).toBeGreaterThanOrEqual(5);
    const createdAt = all.versions.map((version) => version.id);
    expect([...createdAt].sort().reverse()).toEqual(createdAt);
  });

  it('keeps the total exact after a delete', async () => {
    const repo = `${repository}-delete`;
    const kept = Version.parse((await create({ repository: repo })).body);
    const removed = Version.parse((await create({ repository: repo })).body);
    await callApi(handler, { method: 'DELETE', path: `/api/v1/versions/${removed.id}` });
    const list = VersionListResponse.parse(
      (await callApi(handler, { method: 'GET', path: '/api/v1/versions', query: { repository: repo } })).body,
    );
    expect(list).toMatchObject({ total: 1, versions: [{ id: kept.id }] });
  });

  const PAGE = 'page must be a whole number from 1 to 1000';
  const PAGE_SIZE = 'page_size must be a whole number from 1 to 100';
  it.each([
    [{ page: '0' }, 'page', PAGE],
    [{ page: '' }, 'page', PAGE],
    [{ page: 'two' }, 'page', PAGE],
    [{ page: '1.5' }, 'page', PAGE],
    [{ page: '1001' }, 'page', PAGE],
    [{ page_size: '101' }, 'page_size', PAGE_SIZE],
    [{ page_size: '0' }, 'page_size', PAGE_SIZE],
    [{ colour: 'blue' }, 'query', 'Unrecognized key: "colour"'],
  ])('answers 400 naming the parameter for %o', async (query, field, message) => {
    const answer = await callApi(handler, { method: 'GET', path: '/api/v1/versions', query });
    expect(answer.status).toBe(400);
    expect((answer.body.error as { details: unknown }).details).toEqual([{ field, message }]);
  });
});
