import type * as z from 'zod';
import { Application } from '../lambdas/domain/application';
import { Environment } from '../lambdas/domain/environment';
import { Version } from '../lambdas/domain/version';
import { type ApiClient, ApiError } from './api-client';
import { usageError } from './exit-codes';

export type Kind = 'application' | 'environment' | 'version';

interface KindSpec<T> {
  readonly prefix: string;
  readonly path: string;
  readonly listKey: string;
  readonly schema: z.ZodType<T>;
  /** the names a person may use for it */
  readonly names: (item: T) => readonly string[];
  /** what tells two namesakes apart in the ambiguity message */
  readonly describe: (item: T) => string;
}

const KINDS = {
  application: {
    prefix: 'app',
    path: '/applications',
    listKey: 'applications',
    schema: Application,
    names: (item: Application) => [item.name],
    describe: (item: Application) => `${item.id} (${item.name}, ${item.repository})`,
  } satisfies KindSpec<Application>,
  environment: {
    prefix: 'env',
    path: '/environments',
    listKey: 'environments',
    schema: Environment,
    names: (item: Environment) => [item.name],
    describe: (item: Environment) => `${item.id} (${item.name}, ${item.type})`,
  } satisfies KindSpec<Environment>,
  version: {
    prefix: 'ver',
    path: '/versions',
    listKey: 'versions',
    schema: Version,
    names: (item: Version) => [item.git_tag],
    describe: (item: Version) => `${item.id} (${item.git_tag}, ${item.repository})`,
  } satisfies KindSpec<Version>,
} as const;

type ItemOf<K extends Kind> = K extends 'application'
  ? Application
  : K extends 'environment'
    ? Environment
    : Version;

export const isIdOf = (kind: Kind, value: string): boolean =>
  new RegExp(`^${KINDS[kind].prefix}_[0-9a-z]{26}$`).test(value);

/**
 * The one item a name stands for. No match or several are usage errors (exit 2); several
 * list every candidate so the person can pick by id. `among` narrows (e.g. a version tag
 * of the repositories being deployed).
 */
export function pickByName<T extends { id: string }>(
  kind: Kind,
  items: readonly T[],
  reference: string,
  names: (item: T) => readonly string[],
  describe: (item: T) => string,
): T {
  const matches = items.filter((item) => names(item).includes(reference));
  const [first, ...others] = matches;
  if (first === undefined) throw usageError(`no ${kind} named "${reference}"`);
  if (others.length > 0)
    throw usageError(
      `${kind} "${reference}" is ambiguous: ${matches.map(describe).join(', ')}; use one of these ids`,
    );
  return first;
}

/** An application, environment or version by id, name (or, for versions, git tag). */
export async function resolve<K extends Kind>(
  api: ApiClient,
  kind: K,
  reference: string,
  filter?: (item: ItemOf<K>) => boolean,
): Promise<ItemOf<K>> {
  const spec = KINDS[kind] as unknown as KindSpec<ItemOf<K>>;
  if (isIdOf(kind, reference)) {
    try {
      return await api.get(`${spec.path}/${reference}`, spec.schema);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw usageError(`no ${kind} ${reference}`);
      throw error;
    }
  }
  const items = await api.listAll(spec.path, spec.listKey, spec.schema);
  const named = items.filter((item) => spec.names(item).includes(reference));
  const narrowed = filter && named.length > 1 ? named.filter(filter) : named;
  return pickByName(kind, narrowed.length > 0 ? narrowed : named, reference, spec.names, spec.describe);
}

export function schemaOf(kind: Kind): { path: string; listKey: string } {
  return { path: KINDS[kind].path, listKey: KINDS[kind].listKey };
}
