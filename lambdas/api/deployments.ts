import { createApiHandler } from '../http/api-handler';
import type { ResourceImplementations } from '../http/route';
import type { DeploymentService } from '../services/deployment-service';
import { pathId } from './path';
import { ROUTES, type Routes } from './routes';

export function deploymentRoutes(service: DeploymentService): ResourceImplementations<Routes, 'deployments'> {
  return {
    createDeployment: ({ caller, requestId, body }) => service.createDeployment({ caller, requestId }, body),
    listDeployments: ({ query }) => service.getDeploymentList(query),
    getDeployment: ({ params }) => service.getDeployment(pathId(params, 'Deployment')),
    cancelDeployment: ({ caller, requestId, params }) =>
      service.cancelDeployment({ caller, requestId }, pathId(params, 'Deployment')),
    rollbackDeployment: ({ caller, requestId, params, body }) =>
      service.rollbackDeployment({ caller, requestId }, pathId(params, 'Deployment'), body),
  };
}

export const createDeploymentsHandler = (service: DeploymentService) =>
  createApiHandler('deployments', ROUTES, deploymentRoutes(service));
