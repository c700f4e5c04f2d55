import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../lambdas/api/openapi';
import { ROUTES } from '../../lambdas/api/routes';
import type { RouteSpec } from '../../lambdas/http/route';
import { formatOpenApi, OPENAPI_FILE } from '../../scripts/generate-openapi';

const document = buildOpenApiDocument();

type Json = Record<string, unknown>;

/** `value[key]` as an object, failing the test with the path when it is not one. */
function child(value: unknown, key: string): Json {
  const next = value !== null && typeof value === 'object' ? (value as Json)[key] : undefined;
  if (next === null || typeof next !== 'object') throw new Error(`missing object at ${key}`);
  return next as Json;
}

const routes: readonly RouteSpec[] = Object.values(ROUTES);

describe('docs/openapi.json', () => {
  it('is up to date with ROUTES and the zod schemas', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8').catch(() => '');
    expect(committed, 'docs/openapi.json is stale: run `npm run openapi` and commit the result').toBe(
      formatOpenApi(document),
    );
  });

  it('is a valid OpenAPI 3.1 document whose references all resolve', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // Dereferencing throws on a $ref that points nowhere.
    expect(() => validator.resolveRefs()).not.toThrow();
  });
});

describe('buildOpenApiDocument', () => {
  it.each(routes.map((route) => [route.operationId, route] as const))(
    '%s appears with its method, parameters and statuses',
    (_name, route) => {
      const operation = child(child(child(document, 'paths'), route.path), route.method.toLowerCase());
      expect(operation.operationId).toBe(route.operationId);
      expect(operation.summary).toBe(route.summary);
      expect(operation.security).toEqual([{ CognitoUserPool: [] }]);
      expect(operation['x-required-role']).toBe(route.access);

      const statuses = Object.keys(child(operation, 'responses')).map(Number);
      const expected = [route.successStatus, 400, 401, 403, 500, ...route.errors];
      expect([...statuses].sort()).toEqual([...new Set(expected)].sort());

      const parameters = (operation.parameters ?? []) as { name: string; in: string }[];
      const pathNames = parameters.filter((parameter) => parameter.in === 'path').map(({ name }) => name);
      expect(pathNames).toEqual(route.path.includes('{id}') ? ['id'] : []);
      const queryNames = parameters.filter((parameter) => parameter.in === 'query').map(({ name }) => name);
      // Every list pages by number or cursor; a task's log pages by cursor only.
      if (route.query && route.operationId.startsWith('list')) {
        expect(queryNames).toEqual(expect.arrayContaining(['page', 'page_size', 'cursor', 'sort']));
      } else if (route.query) {
        expect(queryNames).toContain('cursor');
      } else expect(queryNames).toEqual([]);

      expect(operation.requestBody === undefined).toBe(route.body === undefined);
    },
  );

  it('names the domain schemas as components and refers to them', () => {
    const schemas = child(child(document, 'components'), 'schemas');
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'Version',
        'VersionList',
        'CreateVersionRequest',
        'Deployment',
        'Task',
        'Error',
      ]),
    );
    const created = child(child(child(child(document, 'paths'), '/api/v1/versions'), 'post'), 'responses');
    expect(child(child(child(created, '201'), 'content'), 'application/json').schema).toEqual({
      $ref: '#/components/schemas/Version',
    });
  });

  it('documents list filters with the type the query string carries', () => {
    const list = child(child(child(document, 'paths'), '/api/v1/environments'), 'get');
    const parameters = list.parameters as { name: string; schema: Json }[];
    const active = parameters.find((parameter) => parameter.name === 'is_active');
    expect(active?.schema).toEqual({ type: 'string', enum: ['true', 'false'] });
  });

  it('lets answers gain fields but rejects unknown request fields', () => {
    const schemas = child(child(document, 'components'), 'schemas');
    expect(child(schemas, 'Version').additionalProperties).toBeUndefined();
    expect(child(schemas, 'CreateVersionRequest').additionalProperties).toBe(false);
  });
});
