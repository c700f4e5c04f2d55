import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../../cli/api-client';
import { EXIT } from '../../../cli/exit-codes';
import { resolve } from '../../../cli/resolve';

const REPO = 'https://github.com/org/repo';
const OTHER = 'https://github.com/org/other';
const app = (id: string, name: string, repository = REPO) => ({
  id,
  name,
  repository,
  type: 'microservice',
  config: {},
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
});
const version = (id: string, tag: string, repository: string) => ({
  id,
  git_tag: tag,
  git_commit: 'abc123',
  repository,
  created_by: 'me@example.com',
  created_at: '2026-12-01T10:00:00Z',
  description: '',
});
const ID = (prefix: string, n: number) => `${prefix}_${String(n).padStart(26, '0')}`;

/** An API that answers the catalog lists in two pages, as the real one pages with next_cursor. */
function fakeApi(catalog: Record<string, unknown[]>): { api: ApiClient; requests: string[] } {
  const requests: string[] = [];
  const fetchStub = async (input: string | URL | Request): Promise<Response> => {
    const url = new URL(String(input));
    requests.push(`${url.pathname}${url.search}`);
    const [, , , resource, id] = url.pathname.split('/');
    const items = catalog[resource ?? ''] ?? [];
    if (id !== undefined) {
      const item = items.find((candidate) => (candidate as { id: string }).id === id);
      return item
        ? Response.json(item)
        : Response.json({ error: { code: 'NOT_FOUND', message: `${id} not found` } }, { status: 404 });
    }
    const second = url.searchParams.get('cursor') === 'page-2';
    const page = second ? items.slice(1) : items.slice(0, 1);
    return Response.json({
      [resource ?? '']: page,
      next_cursor: second || items.length < 2 ? null : 'page-2',
    });
  };
  return {
    api: new ApiClient({
      apiUrl: 'http://api.test/api/v1',
      token: async () => 't',
      fetch: fetchStub as typeof fetch,
    }),
    requests,
  };
}

describe('names and ids', () => {
  const catalog = {
    applications: [
      app(ID('app', 1), 'api-service'),
      app(ID('app', 2), 'web'),
      app(ID('app', 3), 'web', OTHER),
    ],
    versions: [version(ID('ver', 1), 'v1.0.0', REPO), version(ID('ver', 2), 'v1.0.0', OTHER)],
  };

  it('finds an application by name on any page of the list', async () => {
    const { api, requests } = fakeApi({
      applications: [app(ID('app', 9), 'first'), ...catalog.applications],
    });
    expect((await resolve(api, 'application', 'api-service')).id).toBe(ID('app', 1));
    expect(requests.some((request) => request.includes('cursor=page-2'))).toBe(true);
  });

  it('takes an id as it is, and an unknown id is a usage error naming it', async () => {
    const { api } = fakeApi(catalog);
    expect((await resolve(api, 'application', ID('app', 2))).name).toBe('web');
    await expect(resolve(api, 'application', ID('app', 7))).rejects.toMatchObject({
      exitCode: EXIT.usage,
      message: `no application ${ID('app', 7)}`,
    });
  });

  it('an unknown name is exit 2', async () => {
    const { api } = fakeApi(catalog);
    await expect(resolve(api, 'application', 'nope')).rejects.toMatchObject({
      exitCode: EXIT.usage,
      message: 'no application named "nope"',
    });
  });

  it('an ambiguous name is exit 2 and lists every candidate', async () => {
    const { api } = fakeApi(catalog);
    const error = await resolve(api, 'application', 'web').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ exitCode: EXIT.usage });
    expect(String((error as Error).message)).toBe(
      `application "web" is ambiguous: ${ID('app', 2)} (web, ${REPO}), ${ID('app', 3)} (web, ${OTHER}); use one of these ids`,
    );
  });

  it('a version tag shared by two repositories is settled by the repositories being deployed', async () => {
    const { api } = fakeApi(catalog);
    await expect(resolve(api, 'version', 'v1.0.0')).rejects.toMatchObject({ exitCode: EXIT.usage });
    const mine = await resolve(api, 'version', 'v1.0.0', (item) => item.repository === OTHER);
    expect(mine.id).toBe(ID('ver', 2));
  });
});
