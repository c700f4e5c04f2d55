import { createApiHandler } from '../http/api-handler';
import type { ResourceImplementations } from '../http/route';
import type { EnvironmentService } from '../services/environment-service';
import { pathId } from './path';
import { ROUTES, type Routes } from './routes';

export function environmentRoutes(
  service: EnvironmentService,
): ResourceImplementations<Routes, 'environments'> {
  return {
    createEnvironment: ({ body }) => service.createEnvironment(body),
    listEnvironments: ({ query }) => service.getEnvironmentList(query),
    getEnvironment: ({ params }) => service.getEnvironment(pathId(params, 'Environment')),
    updateEnvironment: ({ params, body }) => service.updateEnvironment(pathId(params, 'Environment'), body),
    deleteEnvironment: async ({ params }) => {
      await service.deleteEnvironment(pathId(params, 'Environment'));
      return { message: 'Environment deleted successfully' };
    },
    getCredentialAccess: ({ params, query }) =>
      service.getCredentialAccess(pathId(params, 'Environment'), query),
  };
}

export const createEnvironmentsHandler = (service: EnvironmentService) =>
  createApiHandler('environments', ROUTES, environmentRoutes(service));
