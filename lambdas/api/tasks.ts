import { createApiHandler } from '../http/api-handler';
import type { ResourceImplementations } from '../http/route';
import type { TaskService } from '../services/task-service';
import { pathId } from './path';
import { ROUTES, type Routes } from './routes';

export function taskRoutes(service: TaskService): ResourceImplementations<Routes, 'tasks'> {
  return {
    listTasks: ({ query }) => service.getTaskList(query),
    getTask: ({ params }) => service.getTask(pathId(params, 'Task')),
    getTaskLogs: ({ params, query }) => service.getTaskLogs(pathId(params, 'Task'), query),
    retryTask: ({ caller, requestId, params }) =>
      service.retryTask({ caller, requestId }, pathId(params, 'Task')),
  };
}

export const createTasksHandler = (service: TaskService) =>
  createApiHandler('tasks', ROUTES, taskRoutes(service));
