import { createDeploymentsHandler } from '../api/deployments';
import { businessMetrics } from '../observability/metrics';
import { createDeploymentService } from '../services/deployment-service';
import { createApplicationRepository } from '../store/application-repository';
import { createDeploymentRepository } from '../store/deployment-repository';
import { createEnvironmentRepository } from '../store/environment-repository';
import { createTaskRepository } from '../store/task-repository';
import { createVersionRepository } from '../store/version-repository';
import { WORKFLOW_TEMPLATES } from '../workflow';
import { workflowRuntime } from './workflow-runtime';

const { store, workflows, reportFault } = workflowRuntime();

export const handler = createDeploymentsHandler(
  createDeploymentService({
    deployments: createDeploymentRepository(store),
    tasks: createTaskRepository(store),
    versions: createVersionRepository(store),
    applications: createApplicationRepository(store),
    environments: createEnvironmentRepository(store),
    workflows,
    templates: WORKFLOW_TEMPLATES,
    metrics: businessMetrics,
    reportFault,
  }),
);
