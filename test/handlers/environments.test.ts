import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEnvironmentsHandler } from '../../lambdas/api/environments';
import { Environment, EnvironmentListResponse, REDACTED } from '../../lambdas/domain/environment';
import { ConcurrentModification } from '../../lambdas/domain/errors';
import { newId } from '../../lambdas/domain/ids';
import { toApiError } from '../../lambdas/http/aws-faults';
import { logger } from '../../lambdas/http/logger';
import { createEnvironmentService } from '../../lambdas/services/environment-service';
import { createCredentialAccessLog } from '../../lambdas/store/credential-access-log';
import {
  createEnvironmentRepository,
  type EnvironmentRepository,
} from '../../lambdas/store/environment-repository';
import { entityKey, indexAttributes } from '../../lambdas/store/keys';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { ADMIN, type ApiAnswer, type Claims, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { useTestCredentials } from '../support/secrets-manager';

const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };
const repository = createEnvironmentRepository(store);
const secrets = useTestCredentials();
/** The stored credentials as the agent reads them; undefined when there is no secret. */
const storedCredentials = async (id: string) => {
  const text = await secrets.storedValue(id);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
};

/** Tests that need `updated_at` to move set this; otherwise the real clock runs. */
let frozenNow: Date | undefined;
const clock = () => frozenNow ?? new Date();
const handlerFor = (environments: EnvironmentRepository) =>
  createEnvironmentsHandler(
    createEnvironmentService(
      environments,
      createUsageGuard(store),
      secrets.credentials,
      createCredentialAccessLog(store),
      clock,
    ),
  );
const handler = handlerFor(repository);

const PATH = '/api/v1/environments';
const ENVIRONMENT_KEYS = ['config', 'created_at', 'id', 'is_active', 'name', 'type', 'updated_at'];

const KUBECONFIG = 'base64_encoded_config_SENTINEL_7f3a9c';
const body = {
  name: 'production',
  type: 'kubernetes',
  config: { cluster: 'prod-cluster', namespace: 'default', kubeconfig: KUBECONFIG },
  is_active: true,
};

const update = {
  name: 'production',
  type: 'kubernetes',
  config: { cluster: 'prod-cluster-v2', namespace: 'production', kubeconfig: REDACTED },
  is_active: true,
};

const create = (overrides: Record<string, unknown> = {}, claims: Claims = ADMIN) =>
  callApi(handler, { method: 'POST', path: PATH, body: { ...body, ...overrides }, claims });

const created = async (overrides: Record<string, unknown> = {}) => {
  const answer = await create(overrides);
  expect(answer.status).toBe(201);
  return Environment.parse(answer.body);
};

const put = (id: string, payload: unknown, claims: Claims = ADMIN) =>
  callApi(handler, { method: 'PUT', path: `${PATH}/${id}`, body: payload, claims });

const get = (id: string) => callApi(handler, { method: 'GET', path: `${PATH}/${id}`, claims: READER });

const list = async (query: Record<string, string>) => {
  const answer = await callApi(handler, { method: 'GET', path: PATH, query, claims: READER });
  expect(answer.status).toBe(200);
  return EnvironmentListResponse.parse(answer.body);
};

/** The stored item as DynamoDB holds it, internal attributes included. */
const rawItem = async (id: string) =>
  (
    await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: entityKey('ENVIRONMENT', id), ConsistentRead: true }),
    )
  ).Item;

const fieldsOf = (answer: ApiAnswer): string[] =>
  (answer.body.error as { details: { field: string }[] }).details.map((issue) => issue.field).sort();

describe('POST /api/v1/environments', () => {
  it('answers the spec fields with an env_ id; the kubeconfig shows only as the marker', async () => {
    const answer = await create();
    expect(answer.status).toBe(201);
    expect(Object.keys(answer.body).sort()).toEqual(ENVIRONMENT_KEYS);
    const environment = Environment.parse(answer.body);
    expect(environment).toMatchObject({
      name: 'production',
      type: 'kubernetes',
      config: { cluster: 'prod-cluster', namespace: 'default', kubeconfig: REDACTED },
      is_active: true,
    });
    expect(Object.keys(environment.config)).toEqual(['cluster', 'namespace', 'kubeconfig']);
    expect(environment.id).toMatch(/^env_[0-9a-z]{26}$/);
    expect(environment.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(environment.updated_at).toBe(environment.created_at);
  });

  it('defaults config to {} and is_active to true', async () => {
    const answer = await callApi(handler, {
      method: 'POST',
      path: PATH,
      body: { name: 'hosts', type: 'physical' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ config: {}, is_active: true, type: 'physical' });
  });

  it('names every missing, mistyped or unknown-enum field in a 400', async () => {
    const answer = await callApi(handler, {
      method: 'POST',
      path: PATH,
      body: { name: '', type: 'vm', config: [], is_active: 'yes' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    expect(fieldsOf(answer)).toEqual(['config', 'is_active', 'name', 'type']);
    const empty = await callApi(handler, { method: 'POST', path: PATH });
    expect(fieldsOf(empty)).toEqual(['name', 'type']);
  });

  it('rejects unknown fields and malformed JSON', async () => {
    const unknownField = await create({ region: 'eu-west-1' });
    expect(unknownField.status).toBe(400);
    expect(fieldsOf(unknownField)).toEqual(['body']);
    const malformed = await callApi(handler, { method: 'POST', path: PATH, rawBody: '{"name": "x",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'body' }] },
    });
  });

  it('refuses the marker where no secret is stored, naming the key', async () => {
    const answer = await create({ config: { cluster: 'c', kubeconfig: REDACTED } });
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer)).toEqual(['config.kubeconfig']);
  });
});

describe('roles', () => {
  it('lets any authenticated caller read, and answers 401 without claims', async () => {
    const environment = await created();
    for (const claims of [READER, DEPLOYER, ADMIN]) {
      expect((await callApi(handler, { method: 'GET', path: PATH, claims })).status).toBe(200);
      expect(
        (await callApi(handler, { method: 'GET', path: `${PATH}/${environment.id}`, claims })).status,
      ).toBe(200);
    }
    for (const call of [
      { method: 'GET', path: PATH },
      { method: 'GET', path: `${PATH}/${environment.id}` },
      { method: 'POST', path: PATH, body },
      { method: 'PUT', path: `${PATH}/${environment.id}`, body: update },
      { method: 'DELETE', path: `${PATH}/${environment.id}` },
    ]) {
      const answer = await callApi(handler, { ...call, claims: null });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
  });

  it('lets only admins create, update and delete', async () => {
    const environment = await created();
    const path = `${PATH}/${environment.id}`;
    for (const claims of [DEPLOYER, READER]) {
      for (const answer of [
        await create({}, claims),
        await put(environment.id, update, claims),
        await callApi(handler, { method: 'DELETE', path, claims }),
      ]) {
        expect(answer.status).toBe(403);
        expect(answer.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
      }
    }
    expect(await get(environment.id)).toEqual({ status: 200, body: environment });
    expect((await put(environment.id, update, ADMIN)).status).toBe(200);
    expect((await callApi(handler, { method: 'DELETE', path, claims: ADMIN })).status).toBe(200);
  });
});

describe('GET, PUT and DELETE /api/v1/environments/{id}', () => {
  it('returns what was created, deletes it with the spec message, then answers 404', async () => {
    const environment = await created();
    const path = `${PATH}/${environment.id}`;
    const fetched = await get(environment.id);
    expect(fetched).toEqual({ status: 200, body: environment });
    expect(Object.keys(fetched.body).sort()).toEqual(ENVIRONMENT_KEYS);

    const deleted = await callApi(handler, { method: 'DELETE', path });
    expect(deleted).toEqual({ status: 200, body: { message: 'Environment deleted successfully' } });
    expect(await rawItem(environment.id)).toBeUndefined();
    expect(await storedCredentials(environment.id)).toBeUndefined();

    for (const answer of [
      await get(environment.id),
      await put(environment.id, update),
      await callApi(handler, { method: 'DELETE', path }),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND', details: { id: environment.id } } });
    }
  });

  it('PUT replaces name, type, config and is_active, keeps id and created_at, bumps updated_at', async () => {
    frozenNow = new Date('2024-10-24T10:00:00.000Z');
    try {
      const environment = await created({
        config: { cluster: 'c1', kubeconfig: KUBECONFIG, old: 'dropped' },
      });
      frozenNow = new Date('2024-10-24T11:00:00.000Z');
      const answer = await put(environment.id, {
        name: 'hosts',
        type: 'physical',
        config: { hosts: 'a,b', kubeconfig: REDACTED },
        is_active: false,
      });
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(ENVIRONMENT_KEYS);
      expect(answer.body).toEqual({
        id: environment.id,
        name: 'hosts',
        type: 'physical',
        config: { hosts: 'a,b', kubeconfig: REDACTED },
        is_active: false,
        created_at: '2024-10-24T10:00:00Z',
        updated_at: '2024-10-24T11:00:00Z',
      });
      expect((await get(environment.id)).body).toEqual(answer.body);
    } finally {
      frozenNow = undefined;
    }
  });

  it('PUT answers 400 for missing fields, an unknown type, unknown fields and malformed JSON', async () => {
    const environment = await created();
    const missing = await put(environment.id, { name: 'x', type: 'kubernetes' });
    expect(fieldsOf(missing)).toEqual(['config', 'is_active']);
    const badType = await put(environment.id, { ...update, type: 'vm' });
    expect(fieldsOf(badType)).toEqual(['type']);
    const unknownField = await put(environment.id, { ...update, id: 'env_other' });
    expect(fieldsOf(unknownField)).toEqual(['body']);
    const malformed = await callApi(handler, {
      method: 'PUT',
      path: `${PATH}/${environment.id}`,
      rawBody: 'nope',
    });
    expect(malformed.status).toBe(400);
    expect((await get(environment.id)).body).toEqual(environment);
  });
});

describe('secret config', () => {
  it("is stored in the environment's secret; the item names the key and holds no value", async () => {
    const environment = await created();
    const item = await rawItem(environment.id);
    expect(item?.config).toEqual({ cluster: 'prod-cluster', namespace: 'default', kubeconfig: REDACTED });
    expect(JSON.stringify(item)).not.toContain(KUBECONFIG);
    expect(await storedCredentials(environment.id)).toEqual({ kubeconfig: KUBECONFIG });
  });

  it('an environment without secret keys has no secret', async () => {
    const environment = await created({ config: { cluster: 'c' } });
    expect(await storedCredentials(environment.id)).toBeUndefined();
  });

  it('PUT: the marker keeps the stored secret, a new value replaces it, a left-out key removes it', async () => {
    const environment = await created({
      config: { cluster: 'c', kubeconfig: KUBECONFIG, db_password: 'pw-1', api_token: 'tok-1' },
    });
    const answer = await put(environment.id, {
      ...update,
      config: { cluster: 'c2', kubeconfig: REDACTED, db_password: 'pw-2' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.config).toEqual({ cluster: 'c2', kubeconfig: REDACTED, db_password: REDACTED });
    const item = await rawItem(environment.id);
    expect(await storedCredentials(environment.id)).toEqual({ kubeconfig: KUBECONFIG, db_password: 'pw-2' });
    expect(item?.config).toEqual({ cluster: 'c2', kubeconfig: REDACTED, db_password: REDACTED });
    expect(JSON.stringify(item)).not.toContain('pw-');

    const cleared = await put(environment.id, { ...update, config: { cluster: 'c3' } });
    expect(cleared.body.config).toEqual({ cluster: 'c3' });
    // the last key went: so did the secret
    expect(await storedCredentials(environment.id)).toBeUndefined();
  });

  it('PUT refuses the marker for a key with nothing stored and changes nothing', async () => {
    const environment = await created({ config: { cluster: 'c' } });
    const answer = await put(environment.id, {
      ...update,
      config: { kubeconfig: REDACTED, token: REDACTED },
    });
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer)).toEqual(['config.kubeconfig', 'config.token']);
    expect((await get(environment.id)).body).toEqual(environment);
  });

  it('hides a private key pasted under an innocent name', async () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nSENTINEL_PEM_1d9e\n-----END EC PRIVATE KEY-----';
    const environment = await created({ config: { tls_key: pem } });
    expect(environment.config).toEqual({ tls_key: REDACTED });
    expect(JSON.stringify((await get(environment.id)).body)).not.toContain('SENTINEL_PEM_1d9e');
    expect(await storedCredentials(environment.id)).toEqual({ tls_key: pem });
  });

  it('a repository caller that leaves a secret in config still does not store it there', async () => {
    const environment = await created({ config: { cluster: 'c' } });
    const read = await repository.read(environment.id);
    if (!read) throw new Error('just created');
    await repository.update(read, { ...read.environment, config: { cluster: 'c', password: 'pw-raw' } }, []);
    const item = await rawItem(environment.id);
    expect(item?.config).toEqual({ cluster: 'c', password: REDACTED });
    expect(JSON.stringify(item)).not.toContain('pw-raw');
  });

  describe('never appears in output', () => {
    const written: string[] = [];
    let level = logger.getLevelName();
    let loggerCalls: { mock: { calls: unknown[][] } }[] = [];
    const output = () => [...written, ...loggerCalls.map((spy) => JSON.stringify(spy.mock.calls))].join('\n');

    beforeEach(() => {
      written.length = 0;
      level = logger.getLevelName();
      // Each warm invocation resets the level to the initial one (SILENT under vitest) through
      // the sampling refresh; keep DEBUG so every line the handler could write is written.
      vi.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined);
      logger.setLogLevel('DEBUG');
      const capture = (chunk: unknown) => {
        written.push(chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk));
        return true;
      };
      vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      // Spies without an implementation call through, so the JSON lines still reach stdout.
      loggerCalls = (['debug', 'info', 'warn', 'error'] as const).map((method) => vi.spyOn(logger, method));
    });

    afterEach(() => {
      vi.restoreAllMocks();
      logger.setLogLevel(level);
    });

    it('neither in any response body nor in any log line, through create, get, list, put and errors', async () => {
      const answers: ApiAnswer[] = [];
      const first = await create();
      answers.push(first);
      const environment = Environment.parse(first.body);
      answers.push(await get(environment.id));
      answers.push(await callApi(handler, { method: 'GET', path: PATH, query: { page_size: '100' } }));
      answers.push(await callApi(handler, { method: 'GET', path: PATH, query: { type: 'kubernetes' } }));
      answers.push(await put(environment.id, update));
      answers.push(await put(environment.id, { ...update, config: { kubeconfig: `${KUBECONFIG}-v2` } }));
      answers.push(await get(environment.id));
      // Errors whose request carried the secret must not echo it either.
      answers.push(await create({ type: 'vm' }));
      answers.push(await create({ config: { kubeconfig: { nested: KUBECONFIG } } }));
      answers.push(await put('env_missing', update));

      expect(answers.map((answer) => answer.status)).toEqual([
        201, 200, 200, 200, 200, 200, 200, 400, 400, 404,
      ]);
      for (const answer of answers) {
        expect(JSON.stringify(answer.body)).not.toContain(KUBECONFIG);
      }
      // The capture is live: the logger's calls and its serialised JSON lines both went through it.
      expect(output()).toContain('request served');
      expect(written.join('\n')).toContain('"message":"request served"');
      expect(output()).not.toContain(KUBECONFIG);
    });
  });
});

describe('concurrent updates', () => {
  it('of the same read: one update wins, the other is a 409, nothing is lost silently', async () => {
    const environment = await created();
    const read = await repository.read(environment.id);
    if (!read) throw new Error('just created');
    const outcomes = await Promise.allSettled([
      repository.update(read, { ...read.environment, name: 'first' }, ['kubeconfig']),
      repository.update(read, { ...read.environment, name: 'second', is_active: false }, ['kubeconfig']),
    ]);
    const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(toApiError(losers[0])).toMatchObject({ status: 409, code: 'CONFLICT' });
    await expect(repository.update(read, read.environment, ['kubeconfig'])).rejects.toBeInstanceOf(
      ConcurrentModification,
    );
  });

  it('through the API: two PUTs that read the same revision answer one 200 and one 409', async () => {
    const environment = await created();
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
      [true, false].map((isActive) =>
        callApi(racing, {
          method: 'PUT',
          path: `${PATH}/${environment.id}`,
          body: { ...update, is_active: isActive },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const winner = answers.find((answer) => answer.status === 200);
    expect(answers.find((answer) => answer.status === 409)?.body).toMatchObject({
      error: { code: 'CONFLICT' },
    });
    expect((await get(environment.id)).body).toEqual(winner?.body);
    expect(await storedCredentials(environment.id)).toEqual({ kubeconfig: KUBECONFIG });
  });

  it('a PUT that loses the race (409) leaves the secret as the winner wrote it', async () => {
    const environment = await created();
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
      ['rotated-A', 'rotated-B'].map((value) =>
        callApi(racing, {
          method: 'PUT',
          path: `${PATH}/${environment.id}`,
          body: { ...update, name: value, config: { ...update.config, kubeconfig: value } },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const winner = Environment.parse(answers.find((answer) => answer.status === 200)?.body);
    expect(await storedCredentials(environment.id)).toEqual({ kubeconfig: winner.name });
  });
});

describe('GET /api/v1/environments', () => {
  /** Every page of a list, walked: what `total` must equal. */
  const walk = async (query: Record<string, string>) => {
    const ids: string[] = [];
    for (let page = 1; ; page += 1) {
      const answer = await list({ ...query, page: String(page), page_size: '100' });
      ids.push(...answer.environments.map((environment) => environment.id));
      if (answer.environments.length < 100) return ids;
    }
  };

  /** `total` of one filter, checked against a walk of its pages. */
  const totalOf = async (query: Record<string, string>): Promise<number> => {
    const { total } = await list(query);
    expect(total, JSON.stringify(query)).toBe((await walk(query)).length);
    return total;
  };

  /** The totals of every single filter and of two combined ones (counter vs. COUNT query). */
  const totals = async () => ({
    all: await totalOf({}),
    kubernetes: await totalOf({ type: 'kubernetes' }),
    physical: await totalOf({ type: 'physical' }),
    active: await totalOf({ is_active: 'true' }),
    inactive: await totalOf({ is_active: 'false' }),
    activeKubernetes: await totalOf({ type: 'kubernetes', is_active: 'true' }),
    inactivePhysical: await totalOf({ type: 'physical', is_active: 'false' }),
  });

  it('lists newest first, pages with totals, filters by type, is_active and both', async () => {
    const before = await totals();
    const made: Environment[] = [];
    for (const [type, isActive] of [
      ['physical', false],
      ['kubernetes', true],
      ['physical', true],
      ['physical', false],
    ] as const) {
      made.push(await created({ type, is_active: isActive, config: {} }));
    }
    const after = await totals();
    expect(after).toEqual({
      all: before.all + 4,
      kubernetes: before.kubernetes + 1,
      physical: before.physical + 3,
      active: before.active + 2,
      inactive: before.inactive + 2,
      activeKubernetes: before.activeKubernetes + 1,
      inactivePhysical: before.inactivePhysical + 2,
    });

    const inactivePhysical = await list({ type: 'physical', is_active: 'false', page_size: '2' });
    expect(inactivePhysical.environments.map((environment) => environment.id)).toEqual([
      made[3]?.id,
      made[0]?.id,
    ]);
    for (const environment of inactivePhysical.environments) {
      expect(environment).toMatchObject({ type: 'physical', is_active: false });
      expect(Object.keys(environment).sort()).toEqual(ENVIRONMENT_KEYS);
    }
    const newest = await list({ page_size: '1' });
    expect(newest).toMatchObject({ page: 1, page_size: 1, total: after.all });
    expect(newest.environments.map((environment) => environment.id)).toEqual([made[3]?.id]);
    const second = await list({ page: '2', page_size: '1' });
    expect(second.environments.map((environment) => environment.id)).toEqual([made[2]?.id]);
    const defaults = await list({});
    expect(defaults.page_size).toBe(20);
    const order = defaults.environments.map((environment) => environment.id);
    expect([...order].sort().reverse()).toEqual(order);
  });

  it('keeps every total exact when a PUT changes type and is_active, and after a delete', async () => {
    const environment = await created({ type: 'kubernetes', is_active: true });
    const before = await totals();

    await put(environment.id, { ...update, type: 'physical', is_active: false });
    const moved = await totals();
    expect(moved).toEqual({
      ...before,
      kubernetes: before.kubernetes - 1,
      physical: before.physical + 1,
      active: before.active - 1,
      inactive: before.inactive + 1,
      activeKubernetes: before.activeKubernetes - 1,
      inactivePhysical: before.inactivePhysical + 1,
    });
    // Only is_active back: the type partitions stay as they are.
    await put(environment.id, { ...update, type: 'physical', is_active: true });
    expect(await totals()).toEqual({
      ...moved,
      active: moved.active + 1,
      inactive: moved.inactive - 1,
      inactivePhysical: moved.inactivePhysical - 1,
    });
    await callApi(handler, { method: 'DELETE', path: `${PATH}/${environment.id}` });
    expect(await totals()).toEqual({
      ...before,
      all: before.all - 1,
      kubernetes: before.kubernetes - 1,
      active: before.active - 1,
      activeKubernetes: before.activeKubernetes - 1,
    });
  });

  it.each([
    [{ is_active: 'maybe' }, 'is_active'],
    [{ is_active: 'TRUE' }, 'is_active'],
    [{ type: 'vm' }, 'type'],
    [{ page: '0' }, 'page'],
    [{ page: '-1' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ page_size: '101' }, 'page_size'],
    [{ page_size: 'many' }, 'page_size'],
    [{ name: 'production' }, 'query'],
  ])('answers 400 naming the parameter for %o', async (query, field) => {
    const answer = await callApi(handler, { method: 'GET', path: PATH, query });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    expect(fieldsOf(answer)).toContain(field);
  });
});

describe('DELETE while in use', () => {
  it('answers 409 while an unfinished deployment targets the environment, 200 once it finished', async () => {
    const environment = await created();
    const deploymentId = `dep_uses_${environment.id}`;
    const deployment = (status: string) => ({
      pk: `DEPLOYMENT#${deploymentId}`,
      sk: 'DEPLOYMENT',
      id: deploymentId,
      status,
      gsi3pk: `DEPLOYMENT#status=${status}`,
      gsi3sk: deploymentId,
      application_ids: ['app_x'],
      environment_id: environment.id,
      version_id: 'ver_x',
    });
    const path = `${PATH}/${environment.id}`;
    for (const status of ['pending', 'running']) {
      await table.documentClient.send(
        new PutCommand({ TableName: table.tableName, Item: deployment(status) }),
      );
      const answer = await callApi(handler, { method: 'DELETE', path });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        error: { code: 'CONFLICT', details: { deployment_id: deploymentId } },
      });
      expect((await get(environment.id)).status).toBe(200);
    }
    await table.documentClient.send(
      new PutCommand({ TableName: table.tableName, Item: deployment('failed') }),
    );
    expect((await callApi(handler, { method: 'DELETE', path })).status).toBe(200);
  });
});

describe('an environment stored before the secret detector knew a shape', () => {
  it('is answered with that secret redacted, keeps it on a PUT with "[redacted]", and moves it apart', async () => {
    const id = newId('environment');
    const at = '2026-11-01T10:00:00Z';
    await table.documentClient.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...entityKey('ENVIRONMENT', id),
          ...indexAttributes('ENVIRONMENT', id, { type: 'physical', is_active: true }),
          id,
          name: `legacy-${id}`,
          type: 'physical',
          config: { cache_url: 'redis://:s3cr3t-pass@cache:6379', region: 'eu' },
          is_active: true,
          created_at: at,
          updated_at: at,
          secret_config: {},
          revision: 1,
        },
      }),
    );
    const read = await callApi(handler, { method: 'GET', path: `${PATH}/${id}`, claims: READER });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ config: { cache_url: '[redacted]', region: 'eu' } });
    expect(JSON.stringify(read.body)).not.toContain('s3cr3t-pass');

    const put = await callApi(handler, {
      method: 'PUT',
      path: `${PATH}/${id}`,
      body: {
        name: `legacy-${id}`,
        type: 'physical',
        config: { cache_url: '[redacted]', region: 'us' },
        is_active: true,
      },
      claims: ADMIN,
    });
    expect(put.status).toBe(200);
    const stored = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: entityKey('ENVIRONMENT', id) }),
    );
    expect(stored.Item?.config).toEqual({ cache_url: '[redacted]', region: 'us' });
    expect(stored.Item?.secret_config).toBeUndefined();
    expect(JSON.stringify(stored.Item)).not.toContain('s3cr3t-pass');
    expect(await storedCredentials(id)).toEqual({ cache_url: 'redis://:s3cr3t-pass@cache:6379' });
  });
});
