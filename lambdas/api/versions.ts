import { createApiHandler } from '../http/api-handler';
import type { ResourceImplementations } from '../http/route';
import type { VersionService } from '../services/version-service';
import { pathId } from './path';
import { ROUTES, type Routes } from './routes';

export function versionRoutes(service: VersionService): ResourceImplementations<Routes, 'versions'> {
  return {
    createVersion: ({ caller, requestId, body }) => service.createVersion({ caller, requestId }, body),
    listVersions: ({ query }) => service.getVersionList(query),
    getVersion: ({ params }) => service.getVersion(pathId(params, 'Version')),
    deleteVersion: async ({ params }) => {
      await service.deleteVersion(pathId(params, 'Version'));
      return { message: 'Version deleted successfully' };
    },
  };
}

export const createVersionsHandler = (service: VersionService) =>
  createApiHandler('versions', ROUTES, versionRoutes(service));
