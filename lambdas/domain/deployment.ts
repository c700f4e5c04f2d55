import * as z from 'zod';
import { listQuery, listResponse, Timestamp } from './common';
import { IdOf } from './ids';

export const DeploymentStatus = z.enum(['pending', 'running', 'success', 'failed']);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const DeploymentStrategy = z.enum(['standard', 'blue-green']);
export type DeploymentStrategy = z.infer<typeof DeploymentStrategy>;

export const CANCELLED_MESSAGE = 'Deployment cancelled by user';

/** Most applications one deployment may ship (bounded by DynamoDB's 100-item transaction). */
export const MAX_APPLICATIONS_PER_DEPLOYMENT = 10;

/**
 * Largest StartExecution input a deployment may have (UTF-8 bytes). Step Functions takes
 * 256 KiB of input and keeps the whole state under the same limit; the rest is left for what
 * the execution adds while it runs (attempts, agent results, the applications' outcomes).
 */
export const MAX_EXECUTION_INPUT_BYTES = 192 * 1024;

export const Deployment = z
  .object({
    id: z.string(),
    version_id: z.string(),
    application_ids: z.array(z.string()),
    environment_id: z.string(),
    status: DeploymentStatus,
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    started_at: Timestamp.nullable(),
    completed_at: Timestamp.nullable(),
    error_message: z.string(),
    strategy: DeploymentStrategy,
    rollback_of: z.string().nullable(),
  })
  .meta({ id: 'Deployment' });
export type Deployment = z.infer<typeof Deployment>;

export const CreateDeploymentRequest = z
  .strictObject({
    version_id: IdOf('version'),
    application_ids: z
      .array(IdOf('application'))
      .min(1, 'at least one application')
      .max(MAX_APPLICATIONS_PER_DEPLOYMENT)
      .refine((ids) => new Set(ids).size === ids.length, 'application ids must not repeat'),
    environment_id: IdOf('environment'),
    strategy: DeploymentStrategy.optional(),
  })
  .meta({ id: 'CreateDeploymentRequest' });
export type CreateDeploymentRequest = z.infer<typeof CreateDeploymentRequest>;

export const ListDeploymentsRequest = listQuery({
  status: DeploymentStatus.optional(),
  environment_id: IdOf('environment').optional(),
  version_id: IdOf('version').optional(),
});
export type ListDeploymentsRequest = z.infer<typeof ListDeploymentsRequest>;

export const DeploymentListResponse = listResponse('deployments', Deployment).meta({ id: 'DeploymentList' });
export type DeploymentListResponse = z.infer<typeof DeploymentListResponse>;

export const EmptyRequest = z.strictObject({}).meta({ id: 'EmptyRequest' });

export const CancelDeploymentResponse = z
  .object({ id: z.string(), status: DeploymentStatus, error_message: z.string() })
  .meta({ id: 'CancelDeploymentResponse' });
export type CancelDeploymentResponse = z.infer<typeof CancelDeploymentResponse>;

export const RollbackRequest = z
  .strictObject({
    target_version_id: IdOf('version'),
    force: z
      .boolean()
      .optional()
      .describe("deploy the target even when it is the deployment's own version (409 otherwise)"),
  })
  .meta({ id: 'RollbackRequest' });
export type RollbackRequest = z.infer<typeof RollbackRequest>;
