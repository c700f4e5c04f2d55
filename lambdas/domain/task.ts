import * as z from 'zod';
import { listQuery, listResponse, Timestamp } from './common';
import { IdOf } from './ids';
import { SingleLineText } from './text';

export const TaskStatus = z.enum(['pending', 'running', 'success', 'failed']);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const Task = z
  .object({
    id: z.string(),
    deployment_id: z.string(),
    type: z.string(),
    status: TaskStatus,
    /** JSON text the agent receives (secrets removed) */
    payload: z.string(),
    /** JSON text the agent reported, "" until then */
    result: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    started_at: Timestamp.nullable(),
    completed_at: Timestamp.nullable(),
    application_id: z.string(),
    step_id: z.string(),
    depends_on: z.array(z.string()),
    attempt: z.number().int().min(0),
  })
  .meta({ id: 'Task' });
export type Task = z.infer<typeof Task>;

export const ListTasksRequest = listQuery({
  deployment_id: IdOf('deployment').optional(),
  status: TaskStatus.optional(),
  type: SingleLineText(64).optional(),
});
export type ListTasksRequest = z.infer<typeof ListTasksRequest>;

export const TaskListResponse = listResponse('tasks', Task).meta({ id: 'TaskList' });
export type TaskListResponse = z.infer<typeof TaskListResponse>;
