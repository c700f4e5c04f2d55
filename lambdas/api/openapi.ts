import { ID_PREFIX, type IdKind } from '../domain/ids';
import { type Access, GROUPS } from '../http/auth';
import type { ApiResource, RouteSpec } from '../http/route';
import { ErrorResponse } from './error-response';
import { componentRef, type JsonSchema, SchemaComponents } from './openapi-schemas';
import { ROUTES } from './routes';

export const OPENAPI_VERSION = '3.1.0';
export const SECURITY_SCHEME = 'CognitoUserPool';
const ERROR_SCHEMA_ID = 'Error';

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 500 | 503;

/** Reusable error answers; each route lists the ones it can give. */
const ERROR_RESPONSES: Record<ErrorStatus, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'Malformed or invalid input; `details` names each bad field' },
  401: { name: 'Unauthorized', description: 'Missing or invalid bearer token' },
  403: { name: 'Forbidden', description: "The caller's Cognito groups do not allow this operation" },
  404: { name: 'NotFound', description: 'No item has this id' },
  409: {
    name: 'Conflict',
    description:
      'State conflict: the item is used by an unfinished deployment, the environment is busy, the deployment or task is in the wrong state, or a concurrent request changed it',
  },
  413: { name: 'PayloadTooLarge', description: 'The request body is over the size limit' },
  500: { name: 'InternalError', description: 'Unexpected failure; the answer never carries its details' },
  503: { name: 'ServiceUnavailable', description: 'Throttled or timed out downstream; retry shortly' },
};

/** Statuses any route may answer, whatever it lists in `errors`. */
const COMMON_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 500];

const ROLE_TEXT: Record<Access, string> = {
  read: 'any authenticated user',
  deploy: `members of \`${GROUPS.deployers}\` or \`${GROUPS.admins}\``,
  admin: `members of \`${GROUPS.admins}\``,
};

const RESOURCE_KIND: Record<ApiResource, IdKind> = {
  versions: 'version',
  applications: 'application',
  environments: 'environment',
  deployments: 'deployment',
  tasks: 'task',
};

const TAG_TEXT: Record<ApiResource, string> = {
  versions: 'A git tag and commit of a repository',
  applications: 'Something buildable and deployable from a repository',
  environments: 'A Kubernetes cluster/namespace or a set of physical hosts',
  deployments: 'One version of one or more applications shipped to one environment by a workflow',
  tasks: 'The steps of a deployment workflow, done by the deploy agent',
};

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** `{id}` and friends, in path order. */
const pathParameterNames = (path: string): string[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));

function pathParameters(route: RouteSpec): JsonSchema[] {
  const kind = RESOURCE_KIND[route.resource];
  return pathParameterNames(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    description: `Id of the ${kind} (\`${ID_PREFIX[kind]}_…\`); an unknown id answers 404`,
    schema: { type: 'string', minLength: 1 },
  }));
}

/** One query parameter per property of the route's (object) query schema. */
function queryParameters(route: RouteSpec, schemas: SchemaComponents): JsonSchema[] {
  if (route.query === undefined) return [];
  const query = schemas.schemaOf(route.query, 'input');
  const properties = query.properties;
  if (query.type !== 'object' || properties === null || typeof properties !== 'object') {
    throw new Error(`${route.operationId}: a query schema must be an object of named parameters`);
  }
  const required = Array.isArray(query.required) ? query.required : [];
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.includes(name),
    schema,
  }));
}

function requestBody(route: RouteSpec, schemas: SchemaComponents): JsonSchema | undefined {
  if (route.body === undefined) return undefined;
  // The handler reads an absent body as `{}`, so a body that accepts `{}` may be left out.
  const optional = route.body.safeParse({}).success;
  return { required: !optional, content: json(schemas.schemaOf(route.body, 'input')) };
}

function operation(route: RouteSpec, schemas: SchemaComponents): JsonSchema {
  const parameters = [...pathParameters(route), ...queryParameters(route, schemas)];
  const body = requestBody(route, schemas);
  const errors = [...new Set<ErrorStatus>([...COMMON_ERRORS, ...route.errors])].sort((a, b) => a - b);
  const responses: Record<string, JsonSchema> = {
    [String(route.successStatus)]: {
      description: route.successStatus === 201 ? 'Created' : 'OK',
      content: json(schemas.schemaOf(route.response, 'output')),
    },
  };
  for (const status of errors) {
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: `Allowed for ${ROLE_TEXT[route.access]}.`,
    tags: [route.resource],
    'x-required-role': route.access,
    security: [{ [SECURITY_SCHEME]: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body === undefined ? {} : { requestBody: body }),
    responses,
  };
}

function errorResponses(): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(({ name, description }) => [
      name,
      { description, content: json(componentRef(ERROR_SCHEMA_ID)) },
    ]),
  );
}

/**
 * The OpenAPI 3.1 document of the whole REST API, derived from ROUTES and the zod schemas
 * the handlers validate with, so it cannot drift from what the code accepts and answers.
 * `npm run openapi` writes it to docs/openapi.json; a unit test fails when that file is stale.
 */
export function buildOpenApiDocument(): JsonSchema {
  const schemas = new SchemaComponents();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const routes: readonly RouteSpec[] = Object.values(ROUTES);
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    item[route.method.toLowerCase()] = operation(route, schemas);
    paths[route.path] = item;
  }
  const errorSchema = schemas.schemaOf(ErrorResponse, 'output');
  if (errorSchema.$ref !== componentRef(ERROR_SCHEMA_ID).$ref) {
    throw new Error(`ErrorResponse must carry .meta({ id: '${ERROR_SCHEMA_ID}' })`);
  }
  const resources = [...new Set(routes.map((route) => route.resource))];
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'deploy-manager API',
      version: '1.0.0',
      description: [
        'Control plane for shipping versions of applications to environments.',
        'Every call needs `Authorization: Bearer <Cognito ID token>`; roles come from the',
        "token's `cognito:groups`: any authenticated user reads, `deployers` also create",
        'versions and deployments, cancel, roll back and retry tasks, `admins` do everything.',
        'Lists are newest first and take `page` and `page_size`.',
      ].join(' '),
    },
    servers: [
      {
        url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
        description: 'API Gateway',
        variables: {
          restApiId: { default: 'abcdefghij' },
          region: { default: 'us-east-1' },
          stage: { default: 'prod' },
        },
      },
      { url: 'http://localhost:3000', description: 'npm start' },
    ],
    tags: resources.map((name) => ({ name, description: TAG_TEXT[name] })),
    security: [{ [SECURITY_SCHEME]: [] }],
    paths,
    components: {
      schemas: schemas.all(),
      responses: errorResponses(),
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A Cognito user pool ID token; groups \`${GROUPS.deployers}\` and \`${GROUPS.admins}\` grant write roles`,
        },
      },
    },
  };
}
