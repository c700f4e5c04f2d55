import { ConcurrentModification } from '../domain/errors';
import type { EnvironmentCredentials } from '../store/environment-credentials';
import { type EnvironmentRepository, storedSecretKeys } from '../store/environment-repository';

export interface CredentialsMigrationCounts {
  /** environments looked at */
  readonly environments: number;
  /** environments whose values moved into their secret now */
  readonly moved: number;
  /** environments that held no value in their item (moved before, or never had any) */
  readonly unchanged: number;
  /** environments written by someone else meanwhile (409): their next write moves them; run again */
  readonly raced: number;
}

const PAGE_SIZE = 100;

/**
 * Moves the secret values of an item written before the credentials store (its legacy
 * `secret_config` attribute, or a secret in plain config) into the environment's secret, in
 * the order an update uses: the item first (keeping the values until the secret holds them),
 * then the secret, then the values leave the item. `updated_at` stays: nothing the API
 * answers changes. Returns false when the item holds no value.
 */
export async function moveLegacyCredentials(
  environments: EnvironmentRepository,
  credentials: EnvironmentCredentials,
  id: string,
): Promise<boolean> {
  const current = await environments.read(id);
  if (!current || Object.keys(current.legacySecrets).length === 0) return false;
  const keys = [
    ...new Set([...storedSecretKeys(current.environment), ...Object.keys(current.legacySecrets)]),
  ];
  const values = Object.fromEntries(
    keys.flatMap((key) =>
      Object.hasOwn(current.legacySecrets, key) ? [[key, current.legacySecrets[key]]] : [],
    ),
  );
  await environments.update(current, current.environment, Object.keys(values), values);
  await credentials.put(id, values);
  await environments.dropLegacySecrets(id, current.revision + 1);
  return true;
}

/** Every environment of the table; idempotent: a second run moves nothing. */
export async function migrateCredentials(
  environments: EnvironmentRepository,
  credentials: EnvironmentCredentials,
): Promise<CredentialsMigrationCounts> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const listed = await environments.list({ page: 1, page_size: PAGE_SIZE, cursor, sort: 'oldest' });
    ids.push(...listed.items.map((environment) => environment.id));
    cursor = listed.nextCursor ?? undefined;
  } while (cursor !== undefined);
  let moved = 0;
  let raced = 0;
  for (const id of ids) {
    try {
      if (await moveLegacyCredentials(environments, credentials, id)) moved += 1;
    } catch (error) {
      if (!(error instanceof ConcurrentModification)) throw error;
      raced += 1;
    }
  }
  return { environments: ids.length, moved, unchanged: ids.length - moved - raced, raced };
}
