import { nowTimestamp } from '../domain/common';
import type { ListTasksRequest, Task, TaskListResponse } from '../domain/task';
import type { WorkflowManager } from '../execution/workflow-manager';
import { ApiError, conflict, notFound } from '../http/errors';
import type { DeploymentRepository } from '../store/deployment-repository';
import type { TaskRepository } from '../store/task-repository';
import type { BusinessMetrics } from './business-metrics';
import { rejectionError, taskAbortResult } from './deployment-service';
import type { RequestContext } from './request-context';

export interface TaskService {
  getTaskList(request: ListTasksRequest): Promise<TaskListResponse>;
  getTask(id: string): Promise<Task>;
  retryTask(context: RequestContext, id: string): Promise<Task>;
}

export interface TaskServiceDependencies {
  readonly tasks: TaskRepository;
  readonly deployments: DeploymentRepository;
  readonly workflows: WorkflowManager;
  readonly metrics: BusinessMetrics;
  readonly reportFault: (message: string, error: unknown) => void;
}

/** Name of the execution that resumes a deployment for the n-th time. */
export const resumeExecutionName = (deploymentId: string, resume: number): string =>
  `${deploymentId}-resume-${resume}`;

export function createTaskService(dependencies: TaskServiceDependencies): TaskService {
  const { tasks, deployments, workflows } = dependencies;

  async function getTask(id: string): Promise<Task> {
    const task = await tasks.getById(id);
    if (!task) throw notFound('Task', id);
    return task;
  }

  return {
    async getTaskList(request) {
      const { items, total } = await tasks.list(request);
      return { tasks: [...items], total, page: request.page, page_size: request.page_size };
    },

    getTask,

    /**
     * Resuming is a new execution of the same definition with the same input: the workflow
     * skips tasks that already succeeded and runs the others, so a retry behaves the same on
     * AWS and on the local stand-in (no RedriveExecution needed).
     */
    async retryTask(_context, id) {
      const task = await getTask(id);
      if (task.status !== 'failed') {
        throw conflict(`Only a failed task can be retried; task ${id} is ${task.status}`, {
          status: task.status,
        });
      }
      const record = await deployments.getById(task.deployment_id);
      if (!record) throw notFound('Deployment', task.deployment_id);
      const { deployment } = record;
      if (deployment.status !== 'failed') {
        throw conflict(
          `Deployment ${deployment.id} is ${deployment.status}; only a failed deployment can be resumed`,
          {
            deployment_status: deployment.status,
          },
        );
      }
      // Resuming runs the task only once the steps it depends on have succeeded: a task whose
      // dependency is still failed (a cancel fails them all) would be left pending for good.
      const siblings = await tasks.getByDeploymentId(deployment.id);
      const blocking = siblings.find(
        (other) => task.depends_on.includes(other.id) && other.status !== 'success',
      );
      if (blocking) {
        throw conflict(
          `Task ${id} (${task.step_id}) depends on task ${blocking.id} (${blocking.step_id}), which is ${blocking.status}; retry that one first`,
          { task_id: blocking.id, status: blocking.status },
        );
      }
      const at = nowTimestamp();
      const rejection = await deployments.resume(record, task, at);
      if (rejection?.reason === 'changed') {
        throw conflict(`Task ${id} or its deployment changed meanwhile; read them again`);
      }
      if (rejection) throw rejectionError(rejection);

      try {
        const executionArn = await workflows.start(
          deployment.strategy,
          resumeExecutionName(deployment.id, record.resumes + 1),
          record.executionInput,
        );
        await deployments.recordExecution(deployment.id, executionArn);
      } catch (error) {
        dependencies.reportFault('could not resume the deployment workflow', error);
        const failedAt = nowTimestamp();
        await deployments.finishAsFailed(
          deployment.id,
          deployment.environment_id,
          'The workflow could not be resumed; retry the task again',
          failedAt,
        );
        await deployments.failUnfinishedTasks(
          [{ ...task, status: 'pending' }],
          taskAbortResult('WorkflowNotStarted', 'The workflow could not be resumed'),
          failedAt,
        );
        throw new ApiError(
          'SERVICE_UNAVAILABLE',
          503,
          'The workflow could not be resumed; the task stays failed',
          {
            task_id: id,
          },
        );
      }
      dependencies.metrics.taskRetried(task.type);
      return { ...task, status: 'pending', result: '', started_at: null, completed_at: null, updated_at: at };
    },
  };
}
