import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/api/routes';
import { newId } from '../../lambdas/domain/ids';
import type { RouteSpec } from '../../lambdas/http/route';
import { type ApiAnswer, type ApiCall, callApi, DEPLOYER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor } from '../support/fake-workflows';

/** Hostile input from the issue's adversarial pass: every one must be a 4xx naming what is wrong. */
const table = useTestTable();
const world = deploymentWorld(table);
const { handlers } = world;

const VERSION = { git_tag: 'v1.0.0', git_commit: 'abc123def456', repository: 'https://github.com/org/repo' };
const APPLICATION = { name: 'api', repository: 'https://github.com/org/repo', type: 'microservice' };
const ENVIRONMENT = { name: 'staging', type: 'kubernetes', config: { namespace: 'default' } };

const handlerFor = (path: string) => {
  const resource = path.split('/')[3];
  switch (resource) {
    case 'versions':
      return handlers.versions;
    case 'applications':
      return handlers.applications;
    case 'environments':
      return handlers.environments;
    case 'deployments':
      return handlers.deployments;
    default:
      return handlers.tasks;
  }
};

const send = (call: ApiCall): Promise<ApiAnswer> => callApi(handlerFor(call.path), call);

interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: readonly { field: string; message: string }[] | Record<string, unknown>;
}

const errorOf = (answer: ApiAnswer): ErrorBody => answer.body.error as ErrorBody;

/** The fields a 400 names. */
const fieldsOf = (answer: ApiAnswer): string[] => {
  const details = errorOf(answer)?.details;
  return Array.isArray(details) ? details.map((issue) => issue.field) : [];
};

const messageFor = (answer: ApiAnswer, field: string): string | undefined => {
  const details = errorOf(answer)?.details;
  return Array.isArray(details) ? details.find((issue) => issue.field === field)?.message : undefined;
};

const createVersion = (overrides: Record<string, unknown>) =>
  send({ method: 'POST', path: '/api/v1/versions', body: { ...VERSION, ...overrides }, claims: DEPLOYER });
const createApplication = (overrides: Record<string, unknown>) =>
  send({ method: 'POST', path: '/api/v1/applications', body: { ...APPLICATION, ...overrides } });
const createEnvironment = (overrides: Record<string, unknown>) =>
  send({ method: 'POST', path: '/api/v1/environments', body: { ...ENVIRONMENT, ...overrides } });

describe('repository URLs agents hand to git', () => {
  const optionsAndShell = [
    '-u@host:path',
    '--upload-pack@host:path',
    '-oProxyCommand@host:path',
    '--upload-pack=touch /tmp/pwned@host:org/repo',
    'ssh://git@-oProxyCommand=id/x',
    'ssh://-oProxyCommand=id/x',
    'ssh://-user@host/org/repo',
    'git@github.com:-oProxyCommand=id',
    'git@github.com:org/--upload-pack=id',
    'https://github.com/org/-repo',
    'https://-github.com/org/repo',
    'https://github.com/org/repo\u0000',
    'https://github.com/org/re\u0000po',
    'https://github.com/org/repo\u001b[2J',
    'https://github.com/org/repo\u202e',
    'https://github.com/$(id)/repo',
    'https://github.com/org/repo;id',
    'https://github.com/`id`/repo',
    'https://github.com/org/repo|sh',
    'https://github.com/org/repo&&id',
    'git@github.com:org/repo$IFS',
    'https://github.com/org/repo >/tmp/x',
    'file:///etc/passwd',
    '/srv/git/repo.git',
    'ext::sh -c id',
  ];

  it.each(optionsAndShell)(
    'refuses %j on both POSTs and in the list filters, naming the field',
    async (url) => {
      for (const answer of [
        await createVersion({ repository: url }),
        await createApplication({ repository: url }),
        await send({ method: 'GET', path: '/api/v1/versions', query: { repository: url } }),
        await send({ method: 'GET', path: '/api/v1/applications', query: { repository: url } }),
      ]) {
        expect(answer.status).toBe(400);
        expect(errorOf(answer).code).toBe('VALIDATION_ERROR');
        expect(fieldsOf(answer)).toEqual(['repository']);
      }
    },
  );

  const credentials = [
    'https://user:pass@github.com/org/repo',
    'https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/org/repo',
    'https://oauth2:glpat-abcdefghij0123456789@gitlab.com/org/repo.git',
    'https://x-access-token@github.com/org/repo',
    'http://user:pass@git.internal/org/repo',
    'ssh://git:secret@host/org/repo',
    'git://user@host/org/repo',
    'git:token@github.com:org/repo',
  ];

  it.each(credentials)('refuses the credentials in %j, saying agents hold them', async (url) => {
    for (const answer of [
      await createVersion({ repository: url }),
      await createApplication({ repository: url }),
    ]) {
      expect(answer.status).toBe(400);
      expect(fieldsOf(answer)).toEqual(['repository']);
      expect(messageFor(answer, 'repository')).toMatch(/agents hold the credentials/);
    }
  });

  it.each([
    'git@github.com:org/repo',
    'git@github.com:org/repo.git',
    'ssh://git@host/x',
    'ssh://git@git.example.com:2222/org/repo.git',
    'https://github.com/org/repo.git',
    'https://git.example.com:8443/group/sub-group/repo',
    'git://git.kernel.org/pub/scm/git/git.git',
    'deploy@build-01.internal:~/repos/app.git',
  ])('keeps %j valid', async (url) => {
    const version = await createVersion({ repository: url });
    expect(version.status).toBe(201);
    expect(version.body.repository).toBe(url);
    expect((await createApplication({ repository: url })).status).toBe(201);
  });
});

/** A body the route takes, so that only the path id can be wrong. */
const validBodyOf = (operationId: string): Record<string, unknown> => {
  switch (operationId) {
    case 'rollbackDeployment':
      return { target_version_id: newId('version') };
    case 'updateApplication':
      return { name: 'api', type: 'microservice', config: {} };
    case 'updateEnvironment':
      return { ...ENVIRONMENT, is_active: true };
    default:
      return {};
  }
};

describe('ids that cannot exist', () => {
  const huge = `ver_${'a'.repeat(2048)}`;
  const byIdRoutes = (Object.values(ROUTES) as readonly RouteSpec[]).filter((route) =>
    route.path.includes('{id}'),
  );

  it.each([
    ['a 2 KB id', huge],
    ['an id of another kind', newId('application')],
    ['a short id', 'ver_1'],
    ['an id with a NUL', `${newId('version').slice(0, -1)}\u0000`],
  ])('answer 404 on every by-id route for %s, never a 500', async (_name, id) => {
    expect(byIdRoutes.length).toBeGreaterThanOrEqual(10);
    for (const route of byIdRoutes) {
      const kindOf = route.path.split('/')[3] ?? '';
      // the right prefix with the wrong shape, or the id as given
      const pathId = id === huge ? `${kindOf.slice(0, 3)}_${'a'.repeat(2048)}` : id;
      const answer = await send({
        method: route.method,
        path: route.path.replace('{id}', encodeURIComponent(pathId)),
        ...(route.body ? { body: validBodyOf(route.operationId) } : {}),
      });
      expect(answer.status, `${route.method} ${route.path}`).toBe(404);
      expect(errorOf(answer).code).toBe('NOT_FOUND');
      expect(errorOf(answer).message.length).toBeLessThan(200);
    }
  });

  it('answers 400 naming a malformed id in a body', async () => {
    const scene = await world.scene(1);
    const good = {
      version_id: scene.version.id,
      application_ids: scene.applications.map((application) => application.id),
      environment_id: scene.environment.id,
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ version_id: `ver_${'a'.repeat(2048)}` }, 'version_id'],
      [{ version_id: scene.applications[0]?.id }, 'version_id'],
      [{ application_ids: [scene.version.id] }, 'application_ids.0'],
      [{ application_ids: [`app_${'x'.repeat(3000)}`] }, 'application_ids.0'],
      [{ environment_id: 'env_1' }, 'environment_id'],
    ];
    for (const [override, field] of cases) {
      const answer = await send({
        method: 'POST',
        path: '/api/v1/deployments',
        body: { ...good, ...override },
      });
      expect(answer.status, field).toBe(400);
      expect(fieldsOf(answer)).toEqual([field]);
    }
    const deployment = await world.deploy(good);
    await world.succeed(deployment.id);
    const rollback = await send({
      method: 'POST',
      path: `/api/v1/deployments/${deployment.id}/rollback`,
      body: { target_version_id: `ver_${'a'.repeat(2048)}` },
    });
    expect(rollback.status).toBe(400);
    expect(fieldsOf(rollback)).toEqual(['target_version_id']);
  });

  it('answers 400 naming a malformed id in a list filter; a well-formed unknown one lists nothing', async () => {
    const long = 'x'.repeat(2048);
    for (const [path, field] of [
      ['/api/v1/deployments', 'environment_id'],
      ['/api/v1/deployments', 'version_id'],
      ['/api/v1/tasks', 'deployment_id'],
    ] as const) {
      for (const value of [`${field.slice(0, 3)}_${long}`, newId('application'), `${field.slice(0, 3)}_1`]) {
        const answer = await send({ method: 'GET', path, query: { [field]: value } });
        expect(answer.status, `${path}?${field}=${value.slice(0, 10)}`).toBe(400);
        expect(fieldsOf(answer)).toEqual([field]);
      }
    }
    const unknown = [
      await send({
        method: 'GET',
        path: '/api/v1/deployments',
        query: { environment_id: newId('environment') },
      }),
      await send({ method: 'GET', path: '/api/v1/deployments', query: { version_id: newId('version') } }),
      await send({ method: 'GET', path: '/api/v1/tasks', query: { deployment_id: newId('deployment') } }),
    ];
    for (const answer of unknown) {
      expect(answer.status).toBe(200);
      expect(answer.body.total).toBe(0);
    }
  });
});

describe('request bodies', () => {
  const bodyRoutes = (Object.values(ROUTES) as readonly RouteSpec[]).filter(
    (route) => route.body !== undefined,
  );

  it.each(['null', '[]', '"text"', '42', 'true'])(
    'refuse %s on every POST and PUT: a JSON object is required',
    async (raw) => {
      expect(bodyRoutes.length).toBeGreaterThanOrEqual(9);
      for (const route of bodyRoutes) {
        const kind = route.path.split('/')[3] ?? '';
        const id = newId(
          kind === 'versions'
            ? 'version'
            : kind === 'applications'
              ? 'application'
              : kind === 'environments'
                ? 'environment'
                : kind === 'deployments'
                  ? 'deployment'
                  : 'task',
        );
        const answer = await send({
          method: route.method,
          path: route.path.replace('{id}', id),
          rawBody: raw,
        });
        expect(answer.status, `${route.method} ${route.path}`).toBe(400);
        expect(errorOf(answer).code).toBe('VALIDATION_ERROR');
        expect(fieldsOf(answer)).toEqual(['body']);
        expect(messageFor(answer, 'body')).toMatch(/JSON object is required/);
      }
    },
  );
});

describe('free text', () => {
  const controls = [
    ['NUL', 'a\u0000b'],
    ['an ANSI escape', '\u001b[31mred\u001b[0m'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['a bidi override', 'invoice\u202Efdp.exe'],
    ['a bidi isolate', 'a\u2066b\u2069'],
    ['a right-to-left mark', 'a\u200Fb'],
    ['a line separator', 'a\u2028b'],
  ] as const;

  it.each(controls)('refuses %s in every free-text field, naming it', async (_name, text) => {
    const cases: [() => Promise<ApiAnswer>, string][] = [
      [() => createVersion({ description: text }), 'description'],
      [() => createVersion({ git_tag: text }), 'git_tag'],
      [() => createApplication({ name: text }), 'name'],
      [() => createApplication({ type: text }), 'type'],
      [() => createApplication({ config: { [text]: 'x' } }), `config.${text}`],
      [() => createApplication({ config: { note: text } }), 'config.note'],
      [() => createEnvironment({ name: text }), 'name'],
      [() => createEnvironment({ config: { [`key${text}`]: 'x' } }), `config.key${text}`],
      [() => createEnvironment({ config: { namespace: text } }), 'config.namespace'],
    ];
    for (const [call, field] of cases) {
      const answer = await call();
      expect(answer.status, field).toBe(400);
      expect(fieldsOf(answer)).toEqual([field]);
    }
    const application = await createApplication({});
    const update = await send({
      method: 'PUT',
      path: `/api/v1/applications/${String(application.body.id)}`,
      body: { name: text, type: 'microservice', config: {} },
    });
    expect(update.status).toBe(400);
    expect(fieldsOf(update)).toEqual(['name']);
  });

  it('keeps line breaks and tabs where text spans lines, and any other Unicode', async () => {
    const version = await createVersion({ description: 'Release 1.0\n\n- fixes\tthings\r\n- ünïcödé 🚀' });
    expect(version.status).toBe(201);
    const environment = await createEnvironment({
      name: 'Produktion (eu-west-1) — grün',
      config: { kubeconfig: 'apiVersion: v1\nkind: Config\n', namespace: 'default' },
    });
    expect(environment.status).toBe(201);
  });
});

describe('credentials the secret detector used to miss', () => {
  const missed = {
    cache_url: 'redis://:Sup3rS3cret@cache.internal:6379',
    registry: '//registry.npmjs.org/:_authToken=0123456789abcdef0123456789abcdef',
    hmac_key: 'c2VjcmV0LWhtYWM=',
    session_key: 'c2VjcmV0LXNlc3Npb24=',
    alerts: 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  };

  it('are answered as the marker in reads and never reach a task payload', async () => {
    const scene = await world.scene(1, { config: { namespace: 'default', ...missed } });
    const read = await send({ method: 'GET', path: `/api/v1/environments/${scene.environment.id}` });
    expect(read.status).toBe(200);
    expect(read.body.config).toEqual({
      namespace: 'default',
      ...Object.fromEntries(Object.keys(missed).map((key) => [key, '[redacted]'])),
    });
    const deployment = await world.deploy(requestFor(scene));
    const tasks = await send({
      method: 'GET',
      path: '/api/v1/tasks',
      query: { deployment_id: deployment.id },
    });
    const payloads = (tasks.body.tasks as { payload: string }[]).map((task) => task.payload);
    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) {
      for (const value of Object.values(missed)) expect(payload).not.toContain(value);
      expect(payload).toContain('"hmac_key"');
    }
  });

  it('are refused in an application config, which every reader sees', async () => {
    for (const [key, value] of Object.entries(missed)) {
      const answer = await createApplication({ config: { [key]: value } });
      expect(answer.status, key).toBe(400);
      expect(fieldsOf(answer)).toEqual([`config.${key}`]);
    }
  });
});
