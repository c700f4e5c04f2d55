/**
 * The three patch formats of the Kubernetes API (and server-side apply's merge), over plain
 * JSON: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch with the
 * merge keys and directives that kubectl and client libraries send for the kinds the test
 * API server serves.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export class PatchError extends Error {
  override readonly name = 'PatchError';
}

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const clone = <T extends JsonValue>(value: T): T => structuredClone(value);

export function jsonMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}

/** Lists merged item by item (by this key) rather than replaced, as in the Kubernetes types. */
function mergeKeyOf(field: string, items: JsonValue[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'conditions':
      return 'type';
    case 'ports':
      return items.some((item) => isObject(item) && 'containerPort' in item) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

export function strategicMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    // Ordering and retain-keys hints: this server keeps the existing order and keys.
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (Array.isArray(value)) {
      const mergeKey = mergeKeyOf(key, [...value, ...(Array.isArray(current) ? current : [])]);
      result[key] =
        mergeKey && Array.isArray(current)
          ? mergeList(current, value, mergeKey)
          : clone(withoutDirectives(value));
      continue;
    }
    result[key] = strategicMergePatch(current, value);
  }
  return result;
}

const withoutDirectives = (items: JsonValue[]): JsonValue[] =>
  items.filter((item) => !(isObject(item) && '$patch' in item));

function mergeList(current: JsonValue[], patch: JsonValue[], mergeKey: string): JsonValue[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace'))
    return clone(withoutDirectives(patch));
  const result = clone(current);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], item);
    } else {
      result.push(strategicMergePatch(undefined, item));
    }
  }
  return result;
}

interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: JsonValue;
}

const pointer = (path: string): string[] =>
  path === ''
    ? []
    : path
        .split('/')
        .slice(1)
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));

function parentOf(document: JsonValue, path: string): { parent: JsonValue; key: string } {
  const parts = pointer(path);
  const key = parts.pop();
  if (key === undefined) throw new PatchError(`a JSON patch cannot address the whole document (${path})`);
  let parent: JsonValue = document;
  for (const part of parts) {
    const next: JsonValue | undefined = Array.isArray(parent)
      ? parent[Number(part)]
      : isObject(parent)
        ? parent[part]
        : undefined;
    if (next === undefined) throw new PatchError(`doc is missing path: "${path}"`);
    parent = next;
  }
  return { parent, key };
}

function getAt(document: JsonValue, path: string): JsonValue {
  const { parent, key } = parentOf(document, path);
  const value = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined;
  if (value === undefined) throw new PatchError(`doc is missing path: "${path}"`);
  return value;
}

function removeAt(document: JsonValue, path: string): void {
  const { parent, key } = parentOf(document, path);
  getAt(document, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (isObject(parent)) delete parent[key];
}

function addAt(document: JsonValue, path: string, value: JsonValue, replace: boolean): void {
  const { parent, key } = parentOf(document, path);
  if (replace) getAt(document, path);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    parent.splice(index, replace ? 1 : 0, clone(value));
  } else if (isObject(parent)) {
    parent[key] = clone(value);
  } else {
    throw new PatchError(`doc is missing path: "${path}"`);
  }
}

export function jsonPatch(target: JsonValue, operations: JsonValue): JsonValue {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch is a list of operations');
  const document = clone(target);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('a JSON patch operation needs op and path');
    }
    const operation = raw as unknown as JsonPatchOperation;
    const value = operation.value ?? null;
    switch (operation.op) {
      case 'add':
        addAt(document, operation.path, value, false);
        break;
      case 'replace':
        addAt(document, operation.path, value, true);
        break;
      case 'remove':
        removeAt(document, operation.path);
        break;
      case 'test':
        if (JSON.stringify(getAt(document, operation.path)) !== JSON.stringify(value)) {
          throw new PatchError(`testing value ${operation.path} failed`);
        }
        break;
      case 'copy':
      case 'move': {
        const moved = getAt(document, operation.from ?? '');
        if (operation.op === 'move') removeAt(document, operation.from ?? '');
        addAt(document, operation.path, moved, false);
        break;
      }
      default:
        throw new PatchError(`unknown JSON patch operation ${operation.op}`);
    }
  }
  return document;
}
