import * as z from 'zod';
import type { TaskPayloadV1 } from '../../../lambdas/agent-protocol';
import { TaskFailure } from '../executor';

const Name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes name (lower-case, digits, -)')
  .max(253);

/** What every Kubernetes step may name (from the step, application or environment config). */
const Workload = z.looseObject({
  /** the Deployment; the application's name when absent */
  deployment: Name.optional(),
  /** the container whose image is set; the first when absent */
  container: z.string().min(1).optional(),
  /** the Service that routes to the application (blue-green); the Deployment's name when absent */
  service: Name.optional(),
});

export const DeployConfig = Workload.extend({
  strategy: z.enum(['rolling-update', 'recreate']).default('rolling-update'),
  replicas: z.number().int().min(0).optional(),
  max_unavailable: z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]).optional(),
});
export type DeployConfig = z.infer<typeof DeployConfig>;

export const DeployGreenConfig = Workload.extend({
  replicas: z.number().int().min(1).optional(),
});
export type DeployGreenConfig = z.infer<typeof DeployGreenConfig>;

export const SwitchTrafficConfig = Workload.extend({
  /** how long the Service may take to have ready endpoints on green after the switch */
  endpoints_timeout: z.number().min(0).default(60),
});
export type SwitchTrafficConfig = z.infer<typeof SwitchTrafficConfig>;

export const CleanupBlueConfig = Workload.extend({
  /** seconds to wait before blue is deleted */
  delay: z.number().min(0).default(300),
});
export type CleanupBlueConfig = z.infer<typeof CleanupBlueConfig>;

export function parseStepConfig<T extends z.ZodType>(schema: T, payload: TaskPayloadV1): z.infer<T> {
  const parsed = schema.safeParse(payload.config);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`,
  );
  throw new TaskFailure(
    'InvalidStepConfig',
    `the ${payload.step} step's config is invalid (${issues.join('; ')})`,
  );
}

export const deploymentNameOf = (config: z.infer<typeof Workload>, payload: TaskPayloadV1): string =>
  config.deployment ?? payload.application.name;
