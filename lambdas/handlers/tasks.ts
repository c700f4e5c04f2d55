import { createTasksHandler } from '../api/tasks';
import { businessMetrics } from '../observability/metrics';
import { createTaskService } from '../services/task-service';
import { createDeploymentRepository } from '../store/deployment-repository';
import { createTaskLogRepository } from '../store/task-log-repository';
import { createTaskRepository } from '../store/task-repository';
import { workflowRuntime } from './workflow-runtime';

const { store, workflows, reportFault } = workflowRuntime();

export const handler = createTasksHandler(
  createTaskService({
    tasks: createTaskRepository(store),
    logs: createTaskLogRepository(store),
    deployments: createDeploymentRepository(store),
    workflows,
    metrics: businessMetrics,
    reportFault,
  }),
);
