/**
 * The resources the test API server serves, as its discovery documents describe them.
 * Endpoints and EndpointSlices are computed from Services and the simulated pods.
 */

export interface ResourceType {
  group: string;
  version: string;
  /** plural, as in the path */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** computed by the server from other objects: read-only */
  derived: boolean;
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    derived: false,
  },
  {
    group: '',
    version: 'v1',
    resource: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    derived: false,
  },
  {
    group: '',
    version: 'v1',
    resource: 'endpoints',
    singular: 'endpoints',
    kind: 'Endpoints',
    namespaced: true,
    shortNames: ['ep'],
    derived: true,
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    derived: false,
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    singular: 'endpointslice',
    kind: 'EndpointSlice',
    namespaced: true,
    shortNames: [],
    derived: true,
  },
];

export const apiVersionOf = (type: ResourceType): string =>
  type.group ? `${type.group}/${type.version}` : type.version;

/** `deployments.apps`, `services`: how the API names a resource in its messages */
export const qualifiedName = (type: ResourceType): string =>
  type.group ? `${type.resource}.${type.group}` : type.resource;

const READ_VERBS = ['get', 'list', 'watch'];
const WRITE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const apiResource = (type: ResourceType) => ({
  name: type.resource,
  singularName: type.singular,
  namespaced: type.namespaced,
  kind: type.kind,
  verbs: type.derived ? READ_VERBS : WRITE_VERBS,
  ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
  ...(type.resource === 'deployments' || type.resource === 'services' ? { categories: ['all'] } : {}),
});

/** `/api/v1`, `/apis/apps/v1`, … */
export function apiResourceList(group: string, version: string) {
  const types = RESOURCE_TYPES.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  const resources = types.flatMap((type) =>
    type.derived || type.resource === 'namespaces'
      ? [apiResource(type)]
      : [
          apiResource(type),
          {
            name: `${type.resource}/status`,
            singularName: '',
            namespaced: type.namespaced,
            kind: type.kind,
            verbs: ['get', 'patch', 'update'],
          },
        ],
  );
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

export function apiGroupList() {
  const groups = [...new Set(RESOURCE_TYPES.map((type) => type.group).filter(Boolean))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => ({
      name,
      versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
      preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
    })),
  };
}

export const apiVersions = (serverAddress: string) => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-deploy-manager-test',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const groupVersionPath = (group: string, version: string): string =>
  group ? `apis/${group}/${version}` : `api/${version}`;

/**
 * `/openapi/v3`: the index of group-version documents. kubectl reads it to learn whether
 * PATCH takes `fieldValidation` (server-side validation) before it applies anything.
 */
export function openApiV3Index() {
  const groupVersions = [
    ...new Set(RESOURCE_TYPES.map((type) => groupVersionPath(type.group, type.version))),
  ];
  return {
    paths: Object.fromEntries(
      groupVersions.map((path) => [
        path,
        { serverRelativeURL: `/openapi/v3/${path}?hash=DEPLOYMANAGERTEST` },
      ]),
    ),
  };
}

const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

/** `/openapi/v3/apis/apps/v1`, …: the object paths and their PATCH operations, without schemas */
export function openApiV3Document(path: string) {
  const types = RESOURCE_TYPES.filter((type) => groupVersionPath(type.group, type.version) === path);
  if (types.length === 0) return undefined;
  const paths = Object.fromEntries(
    types
      .filter((type) => !type.derived)
      .map((type) => {
        const prefix = `/${path}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.resource}/{name}`;
        const gvk = { group: type.group, version: type.version, kind: type.kind };
        return [
          prefix,
          {
            patch: {
              operationId: `patch${type.kind}`,
              parameters: QUERY_PARAMETERS.map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
              responses: { '200': { description: 'OK' } },
              'x-kubernetes-action': 'patch',
              'x-kubernetes-group-version-kind': gvk,
            },
          },
        ];
      }),
  );
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: VERSION_INFO.gitVersion }, paths };
}
