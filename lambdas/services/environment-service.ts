import { listAnswer, nowTimestamp } from '../domain/common';
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
import type { EnvironmentRepository, SecretConfig } from '../store/environment-repository';
import type { UsageGuard } from './request-context';

export interface EnvironmentService {
  createEnvironment(request: CreateEnvironmentRequest): Promise<Environment>;
  getEnvironmentList(request: ListEnvironmentsRequest): Promise<EnvironmentListResponse>;
  getEnvironment(id: string): Promise<Environment>;
  updateEnvironment(id: string, request: UpdateEnvironmentRequest): Promise<Environment>;
  deleteEnvironment(id: string): Promise<void>;
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

/** `clock` is there so tests can see `updated_at` move within the same second. */
export function createEnvironmentService(
  environments: EnvironmentRepository,
  usage: UsageGuard,
  clock: () => Date = () => new Date(),
): EnvironmentService {
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
      await environments.create(environment, secrets);
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
      const { visible, secrets } = sealConfig(request.config, current.secrets);
      const next: Environment = {
        ...current.environment,
        name: request.name,
        type: request.type,
        config: visible,
        is_active: request.is_active,
        updated_at: nowTimestamp(clock()),
      };
      await environments.update(current, next, secrets);
      return next;
    },
    async deleteEnvironment(id) {
      await usage.assertUnused('environment', id);
      if (!(await environments.delete(id))) throw new NotFound('Environment', id);
    },
  };
}
