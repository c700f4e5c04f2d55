import type {
  Application,
  ApplicationListResponse,
  CreateApplicationRequest,
  ListApplicationsRequest,
  UpdateApplicationRequest,
} from '../domain/application';
import { listAnswer, nowTimestamp } from '../domain/common';
import { NotFound } from '../domain/errors';
import { newId } from '../domain/ids';
import type { ApplicationRepository } from '../store/application-repository';
import type { UsageGuard } from './request-context';

export interface ApplicationService {
  createApplication(request: CreateApplicationRequest): Promise<Application>;
  getApplicationList(request: ListApplicationsRequest): Promise<ApplicationListResponse>;
  getApplication(id: string): Promise<Application>;
  updateApplication(id: string, request: UpdateApplicationRequest): Promise<Application>;
  deleteApplication(id: string): Promise<void>;
}

/** `clock` is there so tests can see `updated_at` move within the same second. */
export function createApplicationService(
  applications: ApplicationRepository,
  usage: UsageGuard,
  clock: () => Date = () => new Date(),
): ApplicationService {
  return {
    async createApplication(request) {
      const now = nowTimestamp(clock());
      const application: Application = {
        id: newId('application'),
        name: request.name,
        repository: request.repository,
        type: request.type,
        config: request.config,
        created_at: now,
        updated_at: now,
      };
      await applications.create(application);
      return application;
    },
    async getApplicationList(request) {
      return listAnswer('applications', await applications.list(request), request);
    },
    async getApplication(id) {
      const application = await applications.getById(id);
      if (!application) throw new NotFound('Application', id);
      return application;
    },
    async updateApplication(id, request) {
      const current = await applications.read(id);
      if (!current) throw new NotFound('Application', id);
      // A full replace of the mutable fields; the repository identifies the application and stays.
      const next: Application = {
        ...current.application,
        name: request.name,
        type: request.type,
        config: request.config,
        updated_at: nowTimestamp(clock()),
      };
      await applications.update(current, next);
      return next;
    },
    async deleteApplication(id) {
      if (!(await applications.delete(id, () => usage.assertUnused('application', id)))) {
        throw new NotFound('Application', id);
      }
    },
  };
}
