import { listAnswer, nowTimestamp } from '../domain/common';
import type { CredentialAccessRequest, CredentialAccessResponse } from '../domain/credential-access';
import type {
  CreateEnvironmentRequest,
  Environment,
  EnvironmentListResponse,
  ListEnvironmentsRequest,
  UpdateEnvironmentRequest,
} from '../domain/environment';
import { InvalidInput, NotFound } from '../domain/errors';
import { newId } from '../domain/ids';
import { applySecretUpdate, REDACTED, type SplitConfig } from '../domain/secrets';
import type { CredentialAccessLog } from '../store/credential-access-log';
import type { EnvironmentCredentials } from '../store/environment-credentials';
import {
  type EnvironmentRepository,
  type SecretConfig,
  type StoredEnvironment,
  storedSecretKeys,
} from '../store/environment-repository';
import type { UsageGuard } from './request-context';

export interface EnvironmentService {
  createEnvironment(request: CreateEnvironmentRequest): Promise<Environment>;
  getEnvironmentList(request: ListEnvironmentsRequest): Promise<EnvironmentListResponse>;
  getEnvironment(id: string): Promise<Environment>;
  updateEnvironment(id: string, request: UpdateEnvironmentRequest): Promise<Environment>;
  deleteEnvironment(id: string): Promise<void>;
  /** The agents' fetches of the environment's stored credentials, newest first (admins only). */
  getCredentialAccess(id: string, request: CredentialAccessRequest): Promise<CredentialAccessResponse>;
}

/**
 * The config to store and answer, and the secrets to store apart. `REDACTED` keeps a stored
 * secret, so it is refused (400, naming the key) where nothing is stored under that key:
 * storing the marker as a value would make it look like a secret that is not there.
 */
function sealConfig(config: Readonly<Record<string, unknown>>, stored: SecretConfig): SplitConfig<unknown> {
  const update = applySecretUpdate(config, stored);
  if (update.unresolved.length > 0) {
    throw new InvalidInput(
      'Invalid request body',
      update.unresolved.map((key) => ({
        field: `config.${key}`,
        message: `"${REDACTED}" keeps a stored secret, but none is stored under this key; send its value`,
      })),
    );
  }
  return update;
}

const sendsMarker = (config: Readonly<Record<string, unknown>>): boolean =>
  Object.values(config).some((value) => value === REDACTED);

/**
 * The secret config values live in the credentials store (one secret per environment), the
 * item only names their keys. Write order:
 * - create: the secret first (nobody else knows the new id), then the item; a failed item
 *   write deletes the secret again.
 * - update: the item first, so the revision check picks the one PUT that may write the
 *   secret; a PUT that lost (409) has touched nothing. A legacy item keeps its values in the
 *   item until the secret holds them, then they are removed from it.
 * - delete: the item first (it may be refused while in use), then the secret.
 * The secret is read only to merge a PUT that keeps a value with `"[redacted]"`.
 * `clock` is there so tests can see `updated_at` move within the same second.
 */
export function createEnvironmentService(
  environments: EnvironmentRepository,
  usage: UsageGuard,
  credentials: EnvironmentCredentials,
  accesses: CredentialAccessLog,
  clock: () => Date = () => new Date(),
): EnvironmentService {
  const storedValues = async (current: StoredEnvironment): Promise<SecretConfig> => ({
    ...current.legacySecrets,
    ...(await credentials.readForMerge(current.environment.id)),
  });
  return {
    async createEnvironment(request) {
      const { visible, secrets } = sealConfig(request.config, {});
      const now = nowTimestamp(clock());
      const environment: Environment = {
        id: newId('environment'),
        name: request.name,
        type: request.type,
        config: visible,
        is_active: request.is_active,
        created_at: now,
        updated_at: now,
      };
      const keys = Object.keys(secrets);
      if (keys.length > 0) await credentials.put(environment.id, secrets);
      try {
        await environments.create(environment, keys);
      } catch (error) {
        if (keys.length > 0) await credentials.delete(environment.id).catch(() => undefined);
        throw error;
      }
      return environment;
    },
    async getEnvironmentList(request) {
      return listAnswer('environments', await environments.list(request), request);
    },
    async getEnvironment(id) {
      const environment = await environments.getById(id);
      if (!environment) throw new NotFound('Environment', id);
      return environment;
    },
    async updateEnvironment(id, request) {
      const current = await environments.read(id);
      if (!current) throw new NotFound('Environment', id);
      const stored = sendsMarker(request.config) ? await storedValues(current) : current.legacySecrets;
      const { visible, secrets } = sealConfig(request.config, stored);
      const next: Environment = {
        ...current.environment,
        name: request.name,
        type: request.type,
        config: visible,
        is_active: request.is_active,
        updated_at: nowTimestamp(clock()),
      };
      const keys = Object.keys(secrets);
      const legacy = Object.keys(current.legacySecrets).length > 0;
      await environments.update(current, next, keys, legacy ? secrets : undefined);
      const hadKeys = legacy || storedSecretKeys(current.environment).length > 0;
      if (keys.length > 0 || hadKeys) await credentials.put(id, secrets);
      if (legacy && keys.length > 0) await environments.dropLegacySecrets(id, current.revision + 1);
      return next;
    },
    async deleteEnvironment(id) {
      await usage.assertUnused('environment', id);
      const deleted = await environments.delete(id);
      // Also when there was no item: a delete whose secret deletion failed is retried this way.
      await credentials.delete(id);
      if (!deleted) throw new NotFound('Environment', id);
    },
    async getCredentialAccess(id, request) {
      if (!(await environments.getById(id))) throw new NotFound('Environment', id);
      const page = await accesses.list(id, request.cursor, request.limit);
      return { environment_id: id, accesses: [...page.accesses], next_cursor: page.nextCursor };
    },
  };
}
