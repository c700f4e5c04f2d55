/** The API's shapes, as the handlers answer them (types only: nothing of the server is bundled). */
export type { Application } from '../../../lambdas/domain/application';
export type { Deployment, DeploymentStatus } from '../../../lambdas/domain/deployment';
export type { Environment } from '../../../lambdas/domain/environment';
export type { Task, TaskStatus } from '../../../lambdas/domain/task';
export type { TaskLogLineView, TaskLogResponse } from '../../../lambdas/domain/task-log';
export type { Version } from '../../../lambdas/domain/version';

export interface ListAnswer {
  readonly total: number;
  readonly page: number;
  readonly page_size: number;
  readonly next_cursor: string | null;
}

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}
