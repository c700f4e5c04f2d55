import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import {
  type DeploymentState,
  newDeploymentState,
  reconcileDeployment,
  type SimulatedPod,
  stringMap,
} from './kube-controller';
import {
  isObject,
  type JsonObject,
  type JsonValue,
  jsonMergePatch,
  jsonPatch,
  PatchError,
  strategicMergePatch,
} from './kube-patch';
import {
  apiGroupList,
  apiResourceList,
  apiVersionOf,
  apiVersions,
  openApiV3Document,
  openApiV3Index,
  qualifiedName,
  RESOURCE_TYPES,
  type ResourceType,
  VERSION_INFO,
} from './kube-resources';
import { type ServerCertificate, testServerCertificate } from './tls';

/**
 * A Kubernetes API server for tests, in memory: legacy discovery, `/version`, GET / LIST /
 * WATCH / POST / PUT / PATCH (JSON merge, JSON patch, strategic merge, server-side apply) /
 * DELETE of Namespaces, Deployments and Services, Endpoints and EndpointSlices that follow
 * the Services' selectors and the simulated pods' readiness, resourceVersion and generation,
 * and a controller that rolls Deployments out step by step (kube-controller.ts).
 *
 * Simplifications, on purpose: no OpenAPI documents (404, which kubectl tolerates), JSON
 * only, server-side apply merges the applied configuration like a strategic merge patch and
 * records its manager, but does not track field ownership (so it never reports conflicts).
 */

export interface KubeUser {
  name: string;
  /** namespaces the user may use; every one when absent */
  namespaces?: string[];
}

export interface KubeApiServerOptions {
  /** bearer tokens and whose they are; any request is served as `admin` when absent */
  users?: Record<string, KubeUser>;
  /** how often the simulated controllers take a step */
  tickMs?: number;
  /** serve HTTPS with this certificate (plain HTTP when absent) */
  tls?: ServerCertificate;
}

interface StoredObject {
  type: ResourceType;
  object: JsonObject;
}

interface WatchEvent {
  resourceVersion: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  object: JsonObject;
}

interface Watcher {
  resource: ResourceType;
  namespace: string | undefined;
  matches: (object: JsonObject) => boolean;
  send: (event: WatchEvent) => void;
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

const notFound = (type: ResourceType, name: string) =>
  new ApiError(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.resource,
  });

const metadataOf = (object: JsonObject): JsonObject => {
  if (!isObject(object.metadata)) object.metadata = {};
  return object.metadata as JsonObject;
};

const selectorMatches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

function parseSelector(text: string | null): (labels: Record<string, string>) => boolean {
  if (!text) return () => true;
  const terms = text.split(',').map((term) => term.trim());
  return (labels) =>
    terms.every((term) => {
      const [key, value] = term.split(/==?|!=/);
      if (key === undefined) return true;
      if (term.includes('!=')) return labels[key] !== value;
      return value === undefined ? key in labels : labels[key] === value;
    });
}

function parseFieldSelector(text: string | null): (object: JsonObject) => boolean {
  if (!text) return () => true;
  const terms = text.split(',').map((term) => term.split(/==?/));
  return (object) => {
    const metadata = metadataOf(object);
    return terms.every(([key, value]) =>
      key === 'metadata.name'
        ? metadata.name === value
        : key === 'metadata.namespace'
          ? metadata.namespace === value
          : true,
    );
  };
}

export class KubeApiServer {
  /** every request, with the bearer token it carried (the tests assert whose credentials reached it) */
  readonly requests: {
    method: string;
    path: string;
    contentType: string | undefined;
    token: string | undefined;
  }[] = [];
  private readonly server: Server;
  private readonly objects = new Map<string, StoredObject>();
  private readonly deployments = new Map<string, DeploymentState>();
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly openWatches = new Set<ServerResponse>();
  private revision = 1;
  private uids = 0;
  private clusterIps = 0;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: KubeApiServerOptions = {}) {
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response).catch((error: unknown) => {
        const apiError =
          error instanceof ApiError
            ? error
            : new ApiError(500, 'InternalError', `an internal error occurred: ${String(error)}`);
        this.sendStatus(response, apiError);
      });
    };
    this.server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
      : createHttpServer(listener);
    this.create(this.typeOf('namespaces'), undefined, { metadata: { name: 'default' } });
  }

  /** `https://127.0.0.1:<port>` (or http://) once started */
  url = '';

  /** the serving certificate (PEM), for a kubeconfig's certificate-authority-data */
  get certificate(): string | undefined {
    return this.options.tls?.cert;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const scheme = this.options.tls ? 'https' : 'http';
    this.url = `${scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.ticker = setInterval(() => this.tick(), this.options.tickMs ?? 20);
    return this;
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    for (const response of this.openWatches) response.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** the simulated pods of a Deployment, for assertions */
  pods(namespace: string, name: string): readonly SimulatedPod[] {
    return this.deployments.get(`${namespace}/${name}`)?.pods ?? [];
  }

  private typeOf(resource: string): ResourceType {
    const type = RESOURCE_TYPES.find((candidate) => candidate.resource === resource);
    if (!type) throw new Error(`no resource ${resource}`);
    return type;
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.resource}/${namespace ?? ''}/${name}`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    this.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      contentType: request.headers['content-type'],
      token: /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1],
    });
    const user = this.authenticate(request);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const discovery = this.discovery(path, request);
    if (discovery !== undefined) return this.send(response, 200, discovery);
    if (path === '/openapi/v3') return this.send(response, 200, openApiV3Index());
    const openApi = path.startsWith('/openapi/v3/')
      ? openApiV3Document(path.slice('/openapi/v3/'.length))
      : undefined;
    if (openApi) return this.send(response, 200, openApi);
    if (path.startsWith('/openapi/')) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const route = this.route(path);
    if (!route) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    this.authorize(user, method, route);
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? await readBody(request) : '';
    const { type, namespace, name } = route;
    if (route.subresource && route.subresource !== 'status') {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (method === 'GET' && name) return this.send(response, 200, this.get(type, namespace, name));
    if (
      method === 'GET' &&
      (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1')
    ) {
      return this.watch(type, namespace, url.searchParams, response);
    }
    if (method === 'GET') return this.send(response, 200, this.list(type, namespace, url.searchParams));
    if (type.derived) {
      throw new ApiError(405, 'MethodNotAllowed', `${type.resource} are computed by this server: read only`);
    }
    if (method === 'POST' && !name) {
      return this.send(response, 201, this.create(type, namespace, parseJson(body), url.searchParams));
    }
    if (!name) throw new ApiError(405, 'MethodNotAllowed', `${method} is not allowed on a list`);
    if (method === 'PUT')
      return this.send(response, 200, this.replace(type, namespace, name, parseJson(body)));
    if (method === 'PATCH') {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      const result = this.patch(type, namespace, name, contentType, body, url.searchParams);
      return this.send(response, result.created ? 201 : 200, result.object);
    }
    if (method === 'DELETE') return this.send(response, 200, this.delete(type, namespace, name));
    throw new ApiError(405, 'MethodNotAllowed', `${method} is not allowed`);
  }

  private authenticate(request: IncomingMessage): KubeUser {
    const users = this.options.users;
    if (!users) return { name: 'admin' };
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const user = token ? users[token] : undefined;
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  private authorize(user: KubeUser, method: string, route: Route): void {
    if (!user.namespaces || !route.namespace || user.namespaces.includes(route.namespace)) return;
    const verb =
      { GET: route.name ? 'get' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[
        method
      ] ?? method.toLowerCase();
    const what = route.name ? `${qualifiedName(route.type)} "${route.name}"` : qualifiedName(route.type);
    throw new ApiError(
      403,
      'Forbidden',
      `${what} is forbidden: User "${user.name}" cannot ${verb} resource "${route.type.resource}" in API group "${route.type.group}" in the namespace "${route.namespace}"`,
    );
  }

  private discovery(path: string, request: IncomingMessage): JsonValue | undefined {
    if (path === '/version') return VERSION_INFO;
    if (path === '/api') return apiVersions(request.headers.host ?? '127.0.0.1');
    if (path === '/apis') return apiGroupList();
    const legacy = /^\/api\/(v1)$/.exec(path);
    if (legacy?.[1]) return apiResourceList('', legacy[1]);
    const grouped = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (grouped?.[1] && grouped[2]) {
      const list = apiResourceList(grouped[1], grouped[2]);
      if (!list) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return list;
    }
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group?.[1]) {
      const found = apiGroupList().groups.find((candidate) => candidate.name === group[1]);
      if (!found) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return { kind: 'APIGroup', apiVersion: 'v1', ...found };
    }
    return undefined;
  }

  private route(path: string): Route | undefined {
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string | undefined;
    let rest: string[];
    if (segments[0] === 'api') {
      group = '';
      version = segments[1];
      rest = segments.slice(2);
    } else if (segments[0] === 'apis') {
      group = segments[1] ?? '';
      version = segments[2];
      rest = segments.slice(3);
    } else {
      return undefined;
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, subresource] = rest;
    const type = RESOURCE_TYPES.find(
      (candidate) =>
        candidate.group === group && candidate.version === version && candidate.resource === resource,
    );
    if (!type || (namespace !== undefined && !type.namespaced)) return undefined;
    return { type, namespace, name, subresource };
  }

  private stored(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const found = this.objects.get(this.key(type, namespace, name));
    if (!found) throw notFound(type, name);
    return found;
  }

  private get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    if (type.derived) {
      const found = this.derived(type, namespace ?? 'default').find((item) => metadataOf(item).name === name);
      if (!found) throw notFound(type, name);
      return found;
    }
    return structuredClone(this.stored(type, namespace, name).object);
  }

  private all(type: ResourceType, namespace: string | undefined): JsonObject[] {
    if (type.derived) {
      const namespaces = namespace ? [namespace] : this.namespaceNames();
      return namespaces.flatMap((each) => this.derived(type, each));
    }
    return [...this.objects.values()]
      .filter(
        (entry) =>
          entry.type === type &&
          (namespace === undefined || metadataOf(entry.object).namespace === namespace),
      )
      .map((entry) => structuredClone(entry.object));
  }

  private list(type: ResourceType, namespace: string | undefined, query: URLSearchParams): JsonObject {
    const labels = parseSelector(query.get('labelSelector'));
    const fields = parseFieldSelector(query.get('fieldSelector'));
    const items = this.all(type, namespace).filter(
      (object) => labels(stringMap(metadataOf(object).labels)) && fields(object),
    );
    return {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(this.revision) },
      items,
    };
  }

  private watch(
    type: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
    response: ServerResponse,
  ): void {
    const labels = parseSelector(query.get('labelSelector'));
    const fields = parseFieldSelector(query.get('fieldSelector'));
    const matches = (object: JsonObject) =>
      (namespace === undefined || metadataOf(object).namespace === namespace) &&
      labels(stringMap(metadataOf(object).labels)) &&
      fields(object);
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // Clients wait for the headers before they read events (and before they can stop).
    response.flushHeaders();
    this.openWatches.add(response);
    const send = (event: WatchEvent) => {
      response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    };
    const since = query.get('resourceVersion');
    if (since && since !== '0') {
      for (const event of this.events) {
        if (event.resource === type && event.resourceVersion > Number(since) && matches(event.object))
          send(event);
      }
    } else {
      for (const object of this.all(type, namespace).filter(matches)) {
        send({ resourceVersion: this.revision, type: 'ADDED', resource: type, object });
      }
    }
    const watcher: Watcher = { resource: type, namespace, matches, send };
    this.watchers.add(watcher);
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => response.end(), timeoutSeconds * 1000);
    response.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
      this.openWatches.delete(response);
    });
  }

  private record(type: WatchEvent['type'], resource: ResourceType, object: JsonObject): void {
    const event: WatchEvent = {
      resourceVersion: this.revision,
      type,
      resource,
      object: structuredClone(object),
    };
    this.events.push(event);
    if (this.events.length > 2000) this.events.shift();
    for (const watcher of this.watchers) {
      if (watcher.resource === resource && watcher.matches(event.object)) watcher.send(event);
    }
  }

  private namespaceNames(): string[] {
    return this.all(this.typeOf('namespaces'), undefined).map((object) => String(metadataOf(object).name));
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined): void {
    if (!type.namespaced) return;
    if (!namespace || !this.objects.has(this.key(this.typeOf('namespaces'), undefined, namespace))) {
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace ?? '',
        kind: 'namespaces',
      });
    }
  }

  private create(
    type: ResourceType,
    namespace: string | undefined,
    body: JsonValue,
    query?: URLSearchParams,
  ): JsonObject {
    if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body is not an object');
    const object = structuredClone(body);
    const metadata = metadataOf(object);
    const name = metadata.name;
    if (typeof name !== 'string' || name === '') {
      throw new ApiError(
        422,
        'Invalid',
        `${type.kind} "" is invalid: metadata.name: Required value: name is required`,
      );
    }
    this.requireNamespace(type, namespace);
    if (this.objects.has(this.key(type, namespace, name))) {
      throw new ApiError(409, 'AlreadyExists', `${qualifiedName(type)} "${name}" already exists`, {
        name,
        group: type.group,
        kind: type.resource,
      });
    }
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    this.uids += 1;
    metadata.uid = `00000000-0000-4000-8000-${this.uids.toString(16).padStart(12, '0')}`;
    metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (type.namespaced) metadata.namespace = namespace ?? 'default';
    else delete metadata.namespace;
    delete metadata.resourceVersion;
    this.applyDefaults(type, object);
    if (type.resource === 'deployments') metadata.generation = 1;
    this.validate(type, object, undefined);
    const manager = query?.get('fieldManager');
    if (manager) metadata.managedFields = [managedField(manager, 'Update', object)];
    if (type.resource === 'deployments') this.deployments.set(`${namespace}/${name}`, newDeploymentState());
    return this.save(type, namespace, name, object, 'ADDED');
  }

  private save(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    object: JsonObject,
    event: WatchEvent['type'],
  ): JsonObject {
    this.revision += 1;
    metadataOf(object).resourceVersion = String(this.revision);
    this.objects.set(this.key(type, namespace, name), { type, object });
    this.record(event, type, object);
    return structuredClone(object);
  }

  /** an update of the object (not its status): generation follows its spec */
  private update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    next: JsonObject,
  ): JsonObject {
    const current = this.stored(type, namespace, name).object;
    const metadata = metadataOf(next);
    const before = metadataOf(current);
    if (metadata.name !== undefined && metadata.name !== name) {
      throw new ApiError(
        400,
        'BadRequest',
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    for (const key of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation'] as const) {
      const value = before[key];
      if (value === undefined) delete metadata[key];
      else metadata[key] = value;
    }
    next.apiVersion = apiVersionOf(type);
    next.kind = type.kind;
    const status = current.status;
    if (status === undefined) delete next.status;
    else next.status = structuredClone(status);
    this.applyDefaults(type, next);
    this.validate(type, next, current);
    if (type.resource === 'deployments' && JSON.stringify(next.spec) !== JSON.stringify(current.spec)) {
      metadata.generation = (typeof before.generation === 'number' ? before.generation : 1) + 1;
    }
    if (JSON.stringify(next) === JSON.stringify(current)) return structuredClone(current);
    return this.save(type, namespace, name, next, 'MODIFIED');
  }

  private replace(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: JsonValue,
  ): JsonObject {
    if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body is not an object');
    const current = this.stored(type, namespace, name).object;
    const expected = metadataOf(body).resourceVersion;
    if (expected !== undefined && expected !== metadataOf(current).resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const next = structuredClone(body);
    const metadata = metadataOf(next);
    metadata.managedFields = metadataOf(current).managedFields ?? [];
    return this.update(type, namespace, name, next);
  }

  private patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: string,
    query: URLSearchParams,
  ): { object: JsonObject; created: boolean } {
    const exists = this.objects.has(this.key(type, namespace, name));
    const manager = query.get('fieldManager');
    if (contentType === 'application/apply-patch+yaml') {
      if (!manager) {
        throw new ApiError(
          422,
          'Invalid',
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      }
      let applied: unknown;
      try {
        applied = parseYaml(body);
      } catch {
        throw new ApiError(400, 'BadRequest', 'error decoding YAML: the apply patch is not YAML');
      }
      if (!isObject(applied)) throw new ApiError(400, 'BadRequest', 'the apply patch is not an object');
      const appliedConfig = applied as JsonObject;
      if (appliedConfig.apiVersion !== apiVersionOf(type) || appliedConfig.kind !== type.kind) {
        throw new ApiError(
          400,
          'BadRequest',
          `the apply patch must be a ${type.kind} of ${apiVersionOf(type)}, not a ${String(appliedConfig.kind)} of ${String(appliedConfig.apiVersion)}`,
        );
      }
      if (metadataOf(appliedConfig).name !== name) {
        throw new ApiError(
          400,
          'BadRequest',
          'the name of the applied object does not match the name on the URL',
        );
      }
      if (!exists) {
        const created = structuredClone(appliedConfig);
        metadataOf(created).managedFields = [managedField(manager, 'Apply', appliedConfig)];
        return { object: this.create(type, namespace, created), created: true };
      }
      const current = this.stored(type, namespace, name).object;
      const next = strategicMergePatch(current, withoutStatus(appliedConfig));
      if (!isObject(next)) throw new ApiError(400, 'BadRequest', 'the apply patch is not an object');
      const fields = (
        Array.isArray(metadataOf(current).managedFields) ? metadataOf(current).managedFields : []
      ) as JsonValue[];
      metadataOf(next).managedFields = [
        ...fields.filter(
          (entry) => !(isObject(entry) && entry.manager === manager && entry.operation === 'Apply'),
        ),
        managedField(manager, 'Apply', appliedConfig),
      ];
      return { object: this.update(type, namespace, name, next), created: false };
    }
    const current = this.stored(type, namespace, name).object;
    const document = parseJson(body);
    let next: JsonValue;
    try {
      if (contentType === 'application/merge-patch+json')
        next = jsonMergePatch(current, withoutStatus(document));
      else if (contentType === 'application/strategic-merge-patch+json') {
        next = strategicMergePatch(current, withoutStatus(document));
      } else if (contentType === 'application/json-patch+json') next = jsonPatch(current, document);
      else {
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
      }
    } catch (error) {
      if (error instanceof PatchError) throw new ApiError(422, 'Invalid', error.message);
      throw error;
    }
    if (!isObject(next)) throw new ApiError(422, 'Invalid', 'the patched object is not an object');
    if (manager) {
      const fields = (
        Array.isArray(metadataOf(current).managedFields) ? metadataOf(current).managedFields : []
      ) as JsonValue[];
      metadataOf(next).managedFields = [
        ...fields.filter(
          (entry) => !(isObject(entry) && entry.manager === manager && entry.operation === 'Update'),
        ),
        managedField(manager, 'Update', next),
      ];
    }
    return { object: this.update(type, namespace, name, next), created: false };
  }

  private delete(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const found = this.stored(type, namespace, name);
    this.objects.delete(this.key(type, namespace, name));
    if (type.resource === 'deployments') this.deployments.delete(`${namespace}/${name}`);
    if (type.resource === 'namespaces') {
      for (const [key, entry] of this.objects) {
        if (metadataOf(entry.object).namespace === name) {
          this.objects.delete(key);
          this.deployments.delete(`${name}/${String(metadataOf(entry.object).name)}`);
        }
      }
    }
    this.revision += 1;
    this.record('DELETED', type, found.object);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: type.group, kind: type.resource, uid: metadataOf(found.object).uid ?? '' },
    };
  }

  private applyDefaults(type: ResourceType, object: JsonObject): void {
    if (!isObject(object.spec)) {
      if (type.resource === 'namespaces') object.spec = { finalizers: ['kubernetes'] };
      else return;
    }
    const spec = object.spec as JsonObject;
    if (type.resource === 'namespaces') object.status = { phase: 'Active' };
    if (type.resource === 'deployments') {
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      const strategy = isObject(spec.strategy) ? spec.strategy : {};
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const rolling = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
        rolling.maxUnavailable ??= '25%';
        rolling.maxSurge ??= '25%';
        strategy.rollingUpdate = rolling;
      }
      spec.strategy = strategy;
    }
    if (type.resource === 'services') {
      spec.type ??= 'ClusterIP';
      if (spec.clusterIP === undefined) {
        this.clusterIps += 1;
        spec.clusterIP = `10.96.0.${this.clusterIps + 10}`;
        spec.clusterIPs = [spec.clusterIP];
      }
      if (Array.isArray(spec.ports)) {
        for (const port of spec.ports) {
          if (!isObject(port)) continue;
          port.protocol ??= 'TCP';
          port.targetPort ??= port.port ?? 80;
        }
      }
      spec.sessionAffinity ??= 'None';
      object.status ??= { loadBalancer: {} };
    }
  }

  private validate(type: ResourceType, object: JsonObject, current: JsonObject | undefined): void {
    if (type.resource !== 'deployments') return;
    const name = String(metadataOf(object).name);
    const invalid = (detail: string) => {
      const [field = '', ...rest] = detail.split(': ');
      return new ApiError(422, 'Invalid', `Deployment.apps "${name}" is invalid: ${detail}`, {
        name,
        group: 'apps',
        kind: 'Deployment',
        causes: [{ reason: 'FieldValueInvalid', message: rest.join(': '), field }],
      });
    };
    const spec = isObject(object.spec) ? object.spec : {};
    const selector = stringMap(isObject(spec.selector) ? spec.selector.matchLabels : undefined);
    const template = isObject(spec.template) ? spec.template : {};
    const labels = stringMap(isObject(template.metadata) ? template.metadata.labels : undefined);
    if (Object.keys(selector).length === 0) throw invalid('spec.selector: Required value');
    if (!selectorMatches(selector, labels)) {
      throw invalid(
        'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`',
      );
    }
    if (current) {
      const before = isObject(current.spec) && isObject(current.spec.selector) ? current.spec.selector : {};
      if (JSON.stringify(before) !== JSON.stringify(spec.selector)) {
        throw invalid('spec.selector: Invalid value: field is immutable');
      }
    }
    const containers = isObject(template.spec) ? template.spec.containers : undefined;
    if (!Array.isArray(containers) || containers.length === 0) {
      throw invalid('spec.template.spec.containers: Required value');
    }
    containers.forEach((container, index) => {
      if (!isObject(container) || typeof container.name !== 'string' || container.name === '') {
        throw invalid(`spec.template.spec.containers[${index}].name: Required value`);
      }
      if (typeof container.image !== 'string' || container.image === '') {
        throw invalid(`spec.template.spec.containers[${index}].image: Required value`);
      }
    });
    if (typeof spec.replicas !== 'number' || !Number.isInteger(spec.replicas) || spec.replicas < 0) {
      throw invalid('spec.replicas: Invalid value: must be greater than or equal to 0');
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const [key, state] of this.deployments) {
      const [namespace, name] = key.split('/');
      if (namespace === undefined || name === undefined) continue;
      const entry = this.objects.get(this.key(this.typeOf('deployments'), namespace, name));
      if (!entry) continue;
      const change = reconcileDeployment(entry.object, state, now);
      if (!change) continue;
      const next = structuredClone(entry.object);
      next.status = change.status ?? null;
      if (isObject(change.annotations)) metadataOf(next).annotations = change.annotations;
      this.save(entry.type, namespace, name, next, 'MODIFIED');
    }
  }

  /** pods of the namespace's Deployments, with their Deployment */
  private podsIn(namespace: string): SimulatedPod[] {
    return [...this.deployments.entries()]
      .filter(([key]) => key.startsWith(`${namespace}/`))
      .flatMap(([, state]) => state.pods);
  }

  private derived(type: ResourceType, namespace: string): JsonObject[] {
    const services = this.all(this.typeOf('services'), namespace);
    const pods = this.podsIn(namespace);
    return services.flatMap((service) => {
      const metadata = metadataOf(service);
      const spec = isObject(service.spec) ? service.spec : {};
      const selector = stringMap(spec.selector);
      if (Object.keys(selector).length === 0) return [];
      const selected = pods.filter((pod) => selectorMatches(selector, pod.labels));
      const ports = (Array.isArray(spec.ports) ? spec.ports : []).filter(isObject).map((port) => ({
        ...(typeof port.name === 'string' ? { name: port.name } : {}),
        port: typeof port.targetPort === 'number' ? port.targetPort : (port.port ?? 80),
        protocol: port.protocol ?? 'TCP',
      }));
      const address = (pod: SimulatedPod) => ({
        ip: pod.ip,
        targetRef: { kind: 'Pod', namespace, name: pod.name },
      });
      const name = String(metadata.name);
      const base = {
        namespace,
        resourceVersion: String(this.revision),
        creationTimestamp: metadata.creationTimestamp ?? null,
      };
      if (type.resource === 'endpoints') {
        const ready = selected.filter((pod) => pod.ready).map(address);
        const notReady = selected.filter((pod) => !pod.ready).map(address);
        return [
          {
            kind: 'Endpoints',
            apiVersion: 'v1',
            metadata: { ...base, name, labels: stringMap(metadata.labels) },
            ...(selected.length > 0
              ? {
                  subsets: [
                    {
                      ...(ready.length > 0 ? { addresses: ready } : {}),
                      ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
                      ports,
                    },
                  ],
                }
              : {}),
          },
        ];
      }
      return [
        {
          kind: 'EndpointSlice',
          apiVersion: 'discovery.k8s.io/v1',
          metadata: {
            ...base,
            name: `${name}-slice`,
            labels: {
              'kubernetes.io/service-name': name,
              'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
            },
          },
          addressType: 'IPv4',
          endpoints: selected.map((pod) => ({
            addresses: [pod.ip],
            conditions: { ready: pod.ready, serving: pod.ready, terminating: false },
            targetRef: { kind: 'Pod', namespace, name: pod.name },
          })),
          ports,
        },
      ];
    });
  }

  private send(response: ServerResponse, code: number, body: JsonValue): void {
    response.writeHead(code, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  private sendStatus(response: ServerResponse, error: ApiError): void {
    if (response.headersSent) {
      response.end();
      return;
    }
    this.send(response, error.code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: error.message,
      reason: error.reason,
      ...(error.details ? { details: error.details } : {}),
      code: error.code,
    });
  }
}

const withoutStatus = (document: JsonValue): JsonValue => {
  if (!isObject(document)) return document;
  const { status: _, ...rest } = document;
  return rest;
};

function managedField(manager: string, operation: string, object: JsonObject): JsonObject {
  return {
    manager,
    operation,
    apiVersion: typeof object.apiVersion === 'string' ? object.apiVersion : 'v1',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
}

function parseJson(body: string): JsonValue {
  try {
    return JSON.parse(body) as JsonValue;
  } catch {
    throw new ApiError(400, 'BadRequest', 'the request body is not JSON');
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts a test API server on HTTPS, with its test certificate (tls.ts). */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  return new KubeApiServer({ tls: await testServerCertificate(), ...options }).start();
}
