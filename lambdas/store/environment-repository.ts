import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

/** Secret config values by key. */
export type SecretConfig = Readonly<Record<string, unknown>>;

/**
 * Where items written before the credentials store (environment-credentials.ts) kept the
 * secret values. Nothing writes it any more except a write in flight (see `update`);
 * `Environment.parse` drops it, so reads never carry it.
 */
const LEGACY_SECRET_ATTRIBUTE = 'secret_config';

/** An environment as read for an update: `update` only succeeds while `revision` is current. */
export interface StoredEnvironment {
  readonly environment: Environment;
  /**
   * Values an item written before the credentials store still holds (its `secret_config`
   * attribute, or a secret in plain config): they count as stored until the first write
   * moves them into the credentials store. `{}` for every item written since.
   */
  readonly legacySecrets: SecretConfig;
  readonly revision: number;
}

export interface EnvironmentRepository {
  /** `environment.config` shows each stored secret's key as `REDACTED`; no value is stored here. */
  create(environment: Environment, secretKeys?: readonly string[]): Promise<void>;
  /** The environment as the API answers it: secrets shown as `REDACTED`, their values left out. */
  getById(id: string): Promise<Environment | undefined>;
  read(id: string): Promise<StoredEnvironment | undefined>;
  list(filter: EnvironmentFilter): Promise<Page<Environment>>;
  /**
   * Replaces the environment as read; 409 when another write changed it since. `pending`
   * keeps values in the legacy attribute until `dropLegacySecrets`: a write that moves a
   * legacy item's values into the credentials store loses none if that store fails.
   */
  update(
    previous: StoredEnvironment,
    next: Environment,
    secretKeys: readonly string[],
    pending?: SecretConfig,
  ): Promise<void>;
  /** Removes the legacy attribute from the item at `revision`; false when it moved on. */
  dropLegacySecrets(id: string, revision: number): Promise<boolean>;
  /**
   * false when there was nothing to delete; 409 while a deployment holds the environment's
   * lock, checked in the delete's own transaction so a deployment created meanwhile wins or waits.
   */
  delete(id: string): Promise<boolean>;
}

/**
 * The stored item: no secret value, only each stored secret's key showing the marker.
 * Whatever the caller passes, the config is split again here, so a repository caller that
 * forgot cannot store a secret in the clear (its value is dropped, its key kept as marker).
 */
function toItem(
  environment: Environment,
  secretKeys: readonly string[],
  revision: number,
  pending?: SecretConfig,
): StoredItem {
  const split = splitSecrets(environment.config);
  const markers = [...Object.keys(split.secrets), ...secretKeys].map((key) => [key, REDACTED] as const);
  return {
    ...entityKey(ENTITY.environment, environment.id),
    ...indexAttributes(ENTITY.environment, environment.id, {
      type: environment.type,
      is_active: environment.is_active,
    }),
    ...environment,
    config: Object.fromEntries([...Object.entries(split.visible), ...markers]),
    ...(pending === undefined || Object.keys(pending).length === 0
      ? {}
      : { [LEGACY_SECRET_ATTRIBUTE]: pending }),
    revision,
  };
}

/** The keys whose values are stored apart: the config shows them as the marker. */
export const storedSecretKeys = (environment: Environment): string[] =>
  Object.entries(environment.config)
    .filter(([, value]) => value === REDACTED)
    .map(([key]) => key);

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
    create: (environment, secretKeys = []) => table.create(toItem(environment, secretKeys, 1)),
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
        legacySecrets: { ...legacySecrets, ...StoredSecrets.parse(item[LEGACY_SECRET_ATTRIBUTE]) },
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
    update: (previous, next, secretKeys, pending) => {
      if (next.id !== previous.environment.id) throw new Error('an update cannot change the id');
      // The previous item is rebuilt from what was read: its index partitions derive from the
      // same values, so the counters EntityTable moves are the ones the stored item counted in.
      return table.replace(
        toItem(previous.environment, [], previous.revision),
        toItem(next, secretKeys, previous.revision + 1, pending),
      );
    },
    dropLegacySecrets: async (id, revision) => {
      try {
        await context.client.send(
          new UpdateCommand({
            TableName: context.tableName,
            Key: entityKey(ENTITY.environment, id),
            UpdateExpression: 'REMOVE #legacy',
            ConditionExpression: '#revision = :revision',
            ExpressionAttributeNames: { '#legacy': LEGACY_SECRET_ATTRIBUTE, '#revision': 'revision' },
            ExpressionAttributeValues: { ':revision': revision },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
    delete: async (id) => {
      const item = await table.get(id);
      if (!item) return false;
      await table.remove(item, [unlocked(context, id)]);
      return true;
    },
  };
}
