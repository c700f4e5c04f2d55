import { SFNClient } from '@aws-sdk/client-sfn';
import { createWorkflowManager, type WorkflowManager } from '../execution/workflow-manager';
import { logger } from '../observability/logger';
import { tracer } from '../observability/tracer';
import type { StoreContext } from '../store/store-context';
import { readEnvironment, storeContextFrom, WorkflowEnvironment } from './runtime';

export interface WorkflowRuntime {
  readonly store: StoreContext;
  readonly workflows: WorkflowManager;
  /** logs, with the request id the logger carries, a fault the caller only sees as a clean error */
  readonly reportFault: (message: string, error: unknown) => void;
}

/** What the functions that drive workflows (deployments, tasks) share, created once per container. */
export function workflowRuntime(): WorkflowRuntime {
  const environment = readEnvironment(WorkflowEnvironment);
  const client = tracer.captureAWSv3Client(new SFNClient({}));
  return {
    store: storeContextFrom(environment),
    workflows: createWorkflowManager(client, environment.STATE_MACHINE_ARNS),
    reportFault: (message, error) => logger.error(message, { error }),
  };
}
