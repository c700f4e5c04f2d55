import * as z from 'zod';
import type { Page, PageRequest } from '../domain/common';
import { Environment, type EnvironmentType, REDACTED } from '../domain/environment';
import { InUse } from '../domain/errors';
import { splitSecrets } from '../domain/secrets';
import { EntityTable, type RemoveGuard, type StoredItem } from './entity-table';
import { createEnvironmentLock } from './environment-lock';
import { ENTITY, entityKey, indexAttributes } from './keys';
import { listPage } from './list-query';
import type { StoreContext } from './store-context';

export interface EnvironmentFilter extends PageRequest {
  readonly type?: EnvironmentType;
  readonly is_active?: boolean;
}

/** Secret config values by key; they live in their own attribute, never in `config`. */
export type SecretConfig = Readonly<Record<string, unknown>>;

/** Attribute holding the secret config values; `Environment.parse` drops it, so reads never carry it. */
const SECRET_ATTRIBUTE = 'secret_config';

/** An environment as read for an update, with its secrets: `update` only succeeds while `revision` is current. */
export interface StoredEnvironment {
  readonly environment: Environment;
  readonly secrets: SecretConfig;
  readonly revision: number;
}

export interface EnvironmentRepository {
  /** `environment.config` shows each secret as `REDACTED`; the values come in `secrets`. */
  create(environment: Environment, secrets?: SecretConfig): Promise<void>;
  /** The environment as the API answers it: secrets shown as `REDACTED`, their values left out. */
  getById(id: string): Promise<Environment | undefined>;
  read(id: string): Promise<StoredEnvironment | undefined>;
  list(filter: EnvironmentFilter): Promise<Page<Environment>>;
  /** Replaces the environment and its secrets as read; 409 when another write changed it since. */
  update(previous: StoredEnvironment, next: Environment, secrets: SecretConfig): Promise<void>;
  /**
   * false when there was nothing to delete; 409 while a deployment holds the environment's
   * lock, checked in the delete's own transaction so a deployment created meanwhile wins or waits.
   */
  delete(id: string): Promise<boolean>;
}

/**
 * The stored item. Whatever the caller passes, no secret value lands in `config`: the config
 * is split again here (so a repository caller that forgot cannot store one in the clear) and
 * every stored secret's key shows the marker.
 */
function toItem(environment: Environment, secrets: SecretConfig, revision: number): StoredItem {
  const split = splitSecrets(environment.config);
  const secretConfig = { ...split.secrets, ...secrets };
  const markers = Object.keys(secretConfig).map((key) => [key, REDACTED] as const);
  return {
    ...entityKey(ENTITY.environment, environment.id),
    ...indexAttributes(ENTITY.environment, environment.id, {
      type: environment.type,
      is_active: environment.is_active,
    }),
    ...environment,
    config: Object.fromEntries([...Object.entries(split.visible), ...markers]),
    [SECRET_ATTRIBUTE]: secretConfig,
    revision,
  };
}

const StoredSecrets = z.record(z.string(), z.unknown()).default({});

/**
 * The stored config, as the API answers it. An item written before the secret detector knew a
 * shape can hold such a secret in plain `config`: it is answered redacted (and kept apart on
 * the next write, see toItem), never as a 500 nor in clear.
 */
function readItem(item: Record<string, unknown>): { environment: Environment; legacySecrets: SecretConfig } {
  const config = StoredSecrets.parse(item.config);
  const split = splitSecrets(config);
  return { environment: Environment.parse({ ...item, config: split.visible }), legacySecrets: split.secrets };
}

const fromItem = (item: Record<string, unknown>): Environment => readItem(item).environment;

/** The environment's deployment lock is free (environment-lock.ts). */
function unlocked(context: StoreContext, id: string): RemoveGuard {
  const lock = createEnvironmentLock(context);
  return {
    check: lock.free(id),
    rejection: (item) => new InUse('environment', id, lock.holderOf(item) ?? null),
  };
}

export function createEnvironmentRepository(context: StoreContext): EnvironmentRepository {
  const table = new EntityTable(context, ENTITY.environment);
  return {
    create: (environment, secrets = {}) => table.create(toItem(environment, secrets, 1)),
    getById: async (id) => {
      const item = await table.get(id);
      return item ? fromItem(item) : undefined;
    },
    read: async (id) => {
      const item = await table.get(id);
      if (!item) return undefined;
      const { environment, legacySecrets } = readItem(item);
      return {
        environment,
        // a secret still in plain config counts as stored: "[redacted]" keeps it on update
        secrets: { ...legacySecrets, ...StoredSecrets.parse(item[SECRET_ATTRIBUTE]) },
        revision: item.revision,
      };
    },
    list: (filter) =>
      listPage(
        context,
        ENTITY.environment,
        { type: filter.type, is_active: filter.is_active },
        filter,
        fromItem,
      ),
    update: (previous, next, secrets) => {
      if (next.id !== previous.environment.id) throw new Error('an update cannot change the id');
      // The previous item is rebuilt from what was read: its index partitions derive from the
      // same values, so the counters EntityTable moves are the ones the stored item counted in.
      return table.replace(
        toItem(previous.environment, previous.secrets, previous.revision),
        toItem(next, secrets, previous.revision + 1),
      );
    },
    delete: async (id) => {
      const item = await table.get(id);
      if (!item) return false;
      await table.remove(item, [unlocked(context, id)]);
      return true;
    },
  };
}
