import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApplicationsHandler } from '../../lambdas/api/applications';
import { Application, ApplicationListResponse } from '../../lambdas/domain/application';
import { ConcurrentModification } from '../../lambdas/domain/errors';
import { toApiError } from '../../lambdas/http/aws-faults';
import { createApplicationService } from '../../lambdas/services/application-service';
import {
  type ApplicationRepository,
  createApplicationRepository,
} from '../../lambdas/store/application-repository';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { ADMIN, type ApiAnswer, type Claims, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';

const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };
const repository = createApplicationRepository(store);

/** Tests that need `updated_at` to move set this; otherwise the real clock runs. */
let frozenNow: Date | undefined;
const clock = () => frozenNow ?? new Date();
const handlerFor = (applications: ApplicationRepository) =>
  createApplicationsHandler(createApplicationService(applications, createUsageGuard(store), clock));
const handler = handlerFor(repository);

const PATH = '/api/v1/applications';
const APPLICATION_KEYS = ['config', 'created_at', 'id', 'name', 'repository', 'type', 'updated_at'];

const body = {
  name: 'api-service',
  repository: 'https://github.com/org/repo',
  type: 'microservice',
  config: { dockerfile: 'Dockerfile', build_args: 'arg1=value1', port: '8080' },
};

const update = {
  name: 'api-service-v2',
  type: 'microservice',
  config: { dockerfile: 'Dockerfile.prod', build_args: 'arg1=value2', port: '8080' },
};

let unique = 0;
const nextUnique = () => {
  unique += 1;
  return `${Date.now()}-${unique}`;
};
/** A repository URL no other test uses, so its list totals are exact. */
const freshRepository = () => `https://github.com/org/apps-${nextUnique()}`;
const freshType = () => `type-${nextUnique()}`;

const create = (overrides: Record<string, unknown> = {}, claims: Claims = ADMIN) =>
  callApi(handler, { method: 'POST', path: PATH, body: { ...body, ...overrides }, claims });

const created = async (overrides: Record<string, unknown> = {}) => {
  const answer = await create(overrides);
  expect(answer.status).toBe(201);
  return Application.parse(answer.body);
};

const put = (id: string, payload: unknown, claims: Claims = ADMIN) =>
  callApi(handler, { method: 'PUT', path: `${PATH}/${id}`, body: payload, claims });

const list = async (query: Record<string, string>) => {
  const answer = await callApi(handler, { method: 'GET', path: PATH, query, claims: READER });
  expect(answer.status).toBe(200);
  return ApplicationListResponse.parse(answer.body);
};

const fieldsOf = (answer: ApiAnswer): string[] =>
  (answer.body.error as { details: { field: string }[] }).details.map((issue) => issue.field).sort();

describe('POST /api/v1/applications', () => {
  it('answers the spec fields with an app_ id and equal UTC created_at / updated_at', async () => {
    const answer = await create();
    expect(answer.status).toBe(201);
    expect(Object.keys(answer.body).sort()).toEqual(APPLICATION_KEYS);
    const application = Application.parse(answer.body);
    expect(application).toMatchObject(body);
    expect(application.id).toMatch(/^app_[0-9a-z]{26}$/);
    expect(application.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(application.updated_at).toBe(application.created_at);
  });

  it('defaults config to {}', async () => {
    const { config: _omitted, ...withoutConfig } = body;
    const answer = await callApi(handler, { method: 'POST', path: PATH, body: withoutConfig });
    expect(answer.status).toBe(201);
    expect(answer.body.config).toEqual({});
  });

  it('names every missing or mistyped field in a 400', async () => {
    const answer = await callApi(handler, {
      method: 'POST',
      path: PATH,
      body: { name: 7, config: { port: { nested: true } } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    expect(fieldsOf(answer)).toEqual(['config.port', 'name', 'repository', 'type']);
  });

  it('rejects unknown fields, an upper-case type, malformed JSON and an empty body', async () => {
    const unknownField = await create({ owner: 'team-a' });
    expect(unknownField.status).toBe(400);
    expect(fieldsOf(unknownField)).toEqual(['body']);
    const badType = await create({ type: 'Micro Service' });
    expect(fieldsOf(badType)).toEqual(['type']);
    const malformed = await callApi(handler, { method: 'POST', path: PATH, rawBody: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'body' }] },
    });
    const empty = await callApi(handler, { method: 'POST', path: PATH });
    expect(empty.status).toBe(400);
    expect(fieldsOf(empty)).toEqual(['name', 'repository', 'type']);
  });

  it('refuses credentials in config, on create and on PUT, without echoing them', async () => {
    const secret = 'SENTINEL-app-secret-77c1';
    const answer = await create({
      config: { port: '8080', db_password: secret, DATABASE_URL: `postgres://a:${secret}@db` },
    });
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer)).toEqual(['config.DATABASE_URL', 'config.db_password']);
    expect(JSON.stringify(answer.body)).not.toContain(secret);
    const application = await created();
    const replaced = await put(application.id, { ...update, config: { github_token: secret } });
    expect(replaced.status).toBe(400);
    expect(fieldsOf(replaced)).toEqual(['config.github_token']);
    expect((await callApi(handler, { method: 'GET', path: `${PATH}/${application.id}` })).body).toEqual(
      application,
    );
  });

  it('refuses a repository URL over the key size budget instead of failing the write', async () => {
    const answer = await create({ repository: `https://example.com/${'é'.repeat(600)}` });
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer)).toEqual(['repository']);
  });
});

describe('roles', () => {
  it('lets any authenticated caller read, and answers 401 without claims', async () => {
    const application = await created();
    for (const claims of [READER, DEPLOYER, ADMIN]) {
      expect((await callApi(handler, { method: 'GET', path: PATH, claims })).status).toBe(200);
      expect(
        (await callApi(handler, { method: 'GET', path: `${PATH}/${application.id}`, claims })).status,
      ).toBe(200);
    }
    for (const call of [
      { method: 'GET', path: PATH },
      { method: 'GET', path: `${PATH}/${application.id}` },
      { method: 'POST', path: PATH, body },
      { method: 'PUT', path: `${PATH}/${application.id}`, body: update },
      { method: 'DELETE', path: `${PATH}/${application.id}` },
    ]) {
      const answer = await callApi(handler, { ...call, claims: null });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
  });

  it('lets only admins create, update and delete', async () => {
    const application = await created();
    const path = `${PATH}/${application.id}`;
    for (const claims of [DEPLOYER, READER]) {
      const denied = [
        await create({}, claims),
        await put(application.id, update, claims),
        await callApi(handler, { method: 'DELETE', path, claims }),
      ];
      for (const answer of denied) {
        expect(answer.status).toBe(403);
        expect(answer.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
      }
    }
    expect(await callApi(handler, { method: 'GET', path })).toEqual({ status: 200, body: application });
    expect((await put(application.id, update, ADMIN)).status).toBe(200);
    expect((await callApi(handler, { method: 'DELETE', path, claims: ADMIN })).status).toBe(200);
  });
});

describe('GET, PUT and DELETE /api/v1/applications/{id}', () => {
  it('returns what was created, deletes it with the spec message, then answers 404', async () => {
    const application = await created();
    const path = `${PATH}/${application.id}`;
    const fetched = await callApi(handler, { method: 'GET', path, claims: READER });
    expect(fetched).toEqual({ status: 200, body: application });
    expect(Object.keys(fetched.body).sort()).toEqual(APPLICATION_KEYS);

    const deleted = await callApi(handler, { method: 'DELETE', path });
    expect(deleted).toEqual({ status: 200, body: { message: 'Application deleted successfully' } });

    for (const answer of [
      await callApi(handler, { method: 'GET', path }),
      await put(application.id, update),
      await callApi(handler, { method: 'DELETE', path }),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND', details: { id: application.id } } });
    }
  });

  it('PUT replaces name, type and config, keeps id, repository and created_at, bumps updated_at', async () => {
    frozenNow = new Date('2024-10-24T10:00:00.000Z');
    try {
      const application = await created({ config: { dockerfile: 'Dockerfile', extra: 'dropped' } });
      frozenNow = new Date('2024-10-24T11:00:00.000Z');
      const answer = await put(application.id, update);
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(APPLICATION_KEYS);
      expect(answer.body).toEqual({
        id: application.id,
        name: 'api-service-v2',
        repository: body.repository,
        type: 'microservice',
        config: update.config,
        created_at: '2024-10-24T10:00:00Z',
        updated_at: '2024-10-24T11:00:00Z',
      });
      const fetched = await callApi(handler, { method: 'GET', path: `${PATH}/${application.id}` });
      expect(fetched.body).toEqual(answer.body);
    } finally {
      frozenNow = undefined;
    }
  });

  it('PUT refuses repository (it identifies the application), missing fields and wrong types', async () => {
    const application = await created();
    const withRepository = await put(application.id, {
      ...update,
      repository: 'https://github.com/org/other',
    });
    expect(withRepository.status).toBe(400);
    expect(fieldsOf(withRepository)).toEqual(['body']);
    const missing = await put(application.id, { name: 'only-a-name' });
    expect(fieldsOf(missing)).toEqual(['config', 'type']);
    const mistyped = await put(application.id, { ...update, name: '', config: 'dockerfile=x' });
    expect(fieldsOf(mistyped)).toEqual(['config', 'name']);
    const malformed = await callApi(handler, {
      method: 'PUT',
      path: `${PATH}/${application.id}`,
      rawBody: '{',
    });
    expect(malformed.status).toBe(400);
    const unchanged = await callApi(handler, { method: 'GET', path: `${PATH}/${application.id}` });
    expect(unchanged.body).toEqual(application);
  });
});

describe('concurrent updates', () => {
  it('of the same read: one update wins, the other is a 409, nothing is lost silently', async () => {
    const application = await created();
    const read = await repository.read(application.id);
    if (!read) throw new Error('just created');
    const outcomes = await Promise.allSettled([
      repository.update(read, { ...read.application, name: 'first' }),
      repository.update(read, { ...read.application, name: 'second' }),
    ]);
    const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    // The handler maps errors with toApiError: a lost race is a 409 whichever way DynamoDB reports it.
    expect(toApiError(losers[0])).toMatchObject({ status: 409, code: 'CONFLICT' });

    // A third write from the same (now stale) read also loses.
    await expect(repository.update(read, { ...read.application, name: 'third' })).rejects.toBeInstanceOf(
      ConcurrentModification,
    );
    const stored = await repository.getById(application.id);
    expect(['first', 'second']).toContain(stored?.name);
  });

  it('through the API: two PUTs that read the same revision answer one 200 and one 409', async () => {
    const application = await created();
    // Both PUTs wait at this barrier after their read, so both write from the same revision.
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const racing = handlerFor({
      ...repository,
      read: async (id) => {
        const result = await repository.read(id);
        arrived += 1;
        if (arrived === 2) release();
        await bothRead;
        return result;
      },
    });
    const answers = await Promise.all(
      ['racer-a', 'racer-b'].map((name) =>
        callApi(racing, { method: 'PUT', path: `${PATH}/${application.id}`, body: { ...update, name } }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const winner = answers.find((answer) => answer.status === 200);
    const loser = answers.find((answer) => answer.status === 409);
    expect(loser?.body).toMatchObject({ error: { code: 'CONFLICT' } });
    const final = await callApi(handler, { method: 'GET', path: `${PATH}/${application.id}` });
    expect(final.body).toEqual(winner?.body);
  });
});

describe('GET /api/v1/applications', () => {
  it('lists newest first, pages with totals, filters by repository, type and both', async () => {
    const repo = freshRepository();
    const typeA = freshType();
    const typeB = freshType();
    const ids: string[] = [];
    for (const type of [typeA, typeB, typeA, typeB, typeA]) {
      ids.push((await created({ repository: repo, type })).id);
    }
    const first = await list({ repository: repo, page_size: '2' });
    expect(first).toMatchObject({ total: 5, page: 1, page_size: 2 });
    expect(first.applications.map((application) => application.id)).toEqual([ids[4], ids[3]]);
    const third = await list({ repository: repo, page: '3', page_size: '2' });
    expect(third.applications.map((application) => application.id)).toEqual([ids[0]]);
    expect(third.total).toBe(5);
    const beyond = await list({ repository: repo, page: '4', page_size: '2' });
    expect(beyond).toMatchObject({ applications: [], total: 5 });

    const ofTypeA = await list({ type: typeA });
    expect(ofTypeA.total).toBe(3);
    expect(ofTypeA.applications.map((application) => application.id)).toEqual([ids[4], ids[2], ids[0]]);

    const both = await list({ repository: repo, type: typeB });
    expect(both.total).toBe(2);
    expect(both.applications.map((application) => application.id)).toEqual([ids[3], ids[1]]);
    expect(await list({ repository: freshRepository(), type: typeB })).toMatchObject({
      applications: [],
      total: 0,
    });

    const all = await list({});
    expect(all.page_size).toBe(20);
    expect(all.total).toBeGreaterThanOrEqual(5);
    for (const application of all.applications) {
      expect(Object.keys(application).sort()).toEqual(APPLICATION_KEYS);
    }
    const order = all.applications.map((application) => application.id);
    expect([...order].sort().reverse()).toEqual(order);
  });

  it('keeps every total exact when a PUT changes the type and after a delete', async () => {
    const repo = freshRepository();
    const from = freshType();
    const to = freshType();
    const moved = await created({ repository: repo, type: from });
    const removed = await created({ repository: repo, type: from });
    const totals = async () => ({
      all: (await list({})).total,
      repository: (await list({ repository: repo })).total,
      from: (await list({ type: from })).total,
      to: (await list({ type: to })).total,
      repositoryTo: (await list({ repository: repo, type: to })).total,
    });
    const before = await totals();
    expect(before).toMatchObject({ repository: 2, from: 2, to: 0, repositoryTo: 0 });

    expect((await put(moved.id, { ...update, type: to })).status).toBe(200);
    expect(await totals()).toEqual({ ...before, from: 1, to: 1, repositoryTo: 1 });
    // Same type again: no counter moves twice.
    expect((await put(moved.id, { ...update, type: to, name: 'renamed' })).status).toBe(200);
    expect(await totals()).toEqual({ ...before, from: 1, to: 1, repositoryTo: 1 });

    await callApi(handler, { method: 'DELETE', path: `${PATH}/${removed.id}` });
    expect(await totals()).toEqual({ all: before.all - 1, repository: 1, from: 0, to: 1, repositoryTo: 1 });
    expect((await list({ type: to })).applications.map((application) => application.id)).toEqual([moved.id]);
  });

  it.each([
    [{ page: '0' }, 'page'],
    [{ page: 'two' }, 'page'],
    [{ page: '1001' }, 'page'],
    [{ page_size: '101' }, 'page_size'],
    [{ page_size: '0' }, 'page_size'],
    [{ type: 'Not A Type' }, 'type'],
    [{ repository: '' }, 'repository'],
    [{ colour: 'blue' }, 'query'],
  ])('answers 400 naming the parameter for %o', async (query, field) => {
    const answer = await callApi(handler, { method: 'GET', path: PATH, query });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    expect(fieldsOf(answer)).toContain(field);
  });
});

describe('DELETE while in use', () => {
  it('answers 409 while an unfinished deployment uses the application, 200 once it finished', async () => {
    const application = await created();
    const deploymentId = `dep_uses_${application.id}`;
    const deployment = (status: string) => ({
      pk: `DEPLOYMENT#${deploymentId}`,
      sk: 'DEPLOYMENT',
      id: deploymentId,
      status,
      gsi3pk: `DEPLOYMENT#status=${status}`,
      gsi3sk: deploymentId,
      application_ids: ['app_other', application.id],
      environment_id: 'env_x',
      version_id: 'ver_x',
    });
    const path = `${PATH}/${application.id}`;
    for (const status of ['pending', 'running']) {
      await table.documentClient.send(
        new PutCommand({ TableName: table.tableName, Item: deployment(status) }),
      );
      const answer = await callApi(handler, { method: 'DELETE', path });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        error: { code: 'CONFLICT', details: { deployment_id: deploymentId } },
      });
      expect((await callApi(handler, { method: 'GET', path })).status).toBe(200);
    }
    await table.documentClient.send(
      new PutCommand({ TableName: table.tableName, Item: deployment('success') }),
    );
    expect((await callApi(handler, { method: 'DELETE', path })).status).toBe(200);
  });
});
