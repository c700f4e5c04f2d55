import { createApiHandler } from '../http/api-handler';
import type { ResourceImplementations } from '../http/route';
import type { ApplicationService } from '../services/application-service';
import { pathId } from './path';
import { ROUTES, type Routes } from './routes';

export function applicationRoutes(
  service: ApplicationService,
): ResourceImplementations<Routes, 'applications'> {
  return {
    createApplication: ({ body }) => service.createApplication(body),
    listApplications: ({ query }) => service.getApplicationList(query),
    getApplication: ({ params }) => service.getApplication(pathId(params, 'Application')),
    updateApplication: ({ params, body }) => service.updateApplication(pathId(params, 'Application'), body),
    deleteApplication: async ({ params }) => {
      await service.deleteApplication(pathId(params, 'Application'));
      return { message: 'Application deleted successfully' };
    },
  };
}

export const createApplicationsHandler = (service: ApplicationService) =>
  createApiHandler('applications', ROUTES, applicationRoutes(service));
