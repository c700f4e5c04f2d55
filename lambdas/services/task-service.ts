import { listAnswer, nowTimestamp } from '../domain/common';
import { CANCELLED_MESSAGE } from '../domain/deployment';
import { Conflict, NotFound } from '../domain/errors';
import type { ListTasksRequest, Task, TaskListResponse } from '../domain/task';
import type { TaskLogRequest, TaskLogResponse } from '../domain/task-log';
import { launchWorkflow } from '../execution/launch-workflow';
import { executionNameOf, type WorkflowManager } from '../execution/workflow-manager';
import type { BusinessMetrics } from '../metrics/business-metrics';
import type { DeploymentRecord, DeploymentRepository } from '../store/deployment-repository';
import type { TaskLogRepository } from '../store/task-log-repository';
import type { TaskRepository } from '../store/task-repository';
import { abandonDeployment, taskAbortResult } from './deployment-service';
import type { RequestContext } from './request-context';

export interface TaskService {
  getTaskList(request: ListTasksRequest): Promise<TaskListResponse>;
  getTask(id: string): Promise<Task>;
  getTaskLogs(id: string, request: TaskLogRequest): Promise<TaskLogResponse>;
  retryTask(context: RequestContext, id: string): Promise<Task>;
}

export interface TaskServiceDependencies {
  readonly tasks: TaskRepository;
  readonly logs: TaskLogRepository;
  readonly deployments: DeploymentRepository;
  readonly workflows: WorkflowManager;
  readonly metrics: BusinessMetrics;
  readonly reportFault: (message: string, error: unknown) => void;
}

export function createTaskService(dependencies: TaskServiceDependencies): TaskService {
  const { tasks, deployments, workflows } = dependencies;

  async function getTask(id: string): Promise<Task> {
    const task = await tasks.getById(id);
    if (!task) throw new NotFound('Task', id);
    return task;
  }

  /** Refuses a retry whose task cannot run yet (a dependency not done) or is not failed. */
  async function assertRetriable(task: Task, record: DeploymentRecord): Promise<void> {
    const { deployment } = record;
    if (deployment.status !== 'failed') {
      throw new Conflict(
        `Deployment ${deployment.id} is ${deployment.status}; only a failed deployment can be resumed`,
        { deployment_status: deployment.status },
      );
    }
    // Resuming runs the task only once the steps it depends on have succeeded: a task whose
    // dependency is still failed (a cancel fails them all) would be left pending for good.
    const siblings = await tasks.getByDeploymentId(deployment.id);
    const blocking = siblings.find(
      (other) => task.depends_on.includes(other.id) && other.status !== 'success',
    );
    if (blocking) {
      throw new Conflict(
        `Task ${task.id} (${task.step_id}) depends on task ${blocking.id} (${blocking.step_id}), which is ${blocking.status}; retry that one first`,
        { task_id: blocking.id, status: blocking.status },
      );
    }
  }

  return {
    getTaskList: async (request) => listAnswer('tasks', await tasks.list(request), request),

    getTask,

    /** The lines agents logged for the task, in order; `complete` once it finished and all were read. */
    async getTaskLogs(id, request) {
      const task = await getTask(id);
      const page = await dependencies.logs.read(id, request.cursor, request.limit);
      const finished = task.status === 'success' || task.status === 'failed';
      return {
        task_id: id,
        lines: [...page.lines],
        next_cursor: page.nextCursor,
        complete: finished && page.drained,
      };
    },

    /**
     * Resuming is a new execution of the same definition with the same input: the workflow
     * skips tasks that already succeeded and runs the others, so a retry behaves the same on
     * AWS and on the local stand-in (no RedriveExecution needed). A cancel that lands while
     * the retry starts wins: the retry then stops what it started and answers 409.
     */
    async retryTask(_context, id) {
      const task = await getTask(id);
      if (task.status !== 'failed') {
        throw new Conflict(`Only a failed task can be retried; task ${id} is ${task.status}`, {
          status: task.status,
        });
      }
      const record = await deployments.getById(task.deployment_id);
      if (!record) throw new NotFound('Deployment', task.deployment_id);
      await assertRetriable(task, record);
      const at = nowTimestamp();
      await deployments.resume(record, task, at);

      const { deployment } = record;
      const resumes = record.resumes + 1;
      const resumed: DeploymentRecord = {
        ...record,
        deployment: { ...deployment, status: 'running' },
        resumes,
      };
      const executionArn = await launchWorkflow(dependencies, {
        strategy: deployment.strategy,
        executionName: executionNameOf(deployment.id, resumes),
        input: record.executionInput,
        abandon: () =>
          abandonDeployment(
            deployments,
            resumed,
            'The workflow could not be resumed; retry the task again',
            taskAbortResult('WorkflowNotStarted', 'The workflow could not be resumed'),
          ).then(() => undefined),
        unavailableMessage: 'The workflow could not be resumed; the task stays failed',
        details: { task_id: id },
      });

      const now = await deployments.getById(deployment.id);
      if (now && now.resumes === resumes && now.deployment.error_message === CANCELLED_MESSAGE) {
        // Cancelled between the resume and the start: whatever started must not run.
        await workflows.stop(executionArn, CANCELLED_MESSAGE);
        throw new Conflict(
          `Deployment ${deployment.id} was cancelled while task ${id} was being retried; the retry was stopped`,
          { deployment_status: now.deployment.status },
        );
      }
      dependencies.metrics.taskRetried(task.type);
      return { ...task, status: 'pending', result: '', started_at: null, completed_at: null, updated_at: at };
    },
  };
}
