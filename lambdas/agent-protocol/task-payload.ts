import * as z from 'zod';
import type { TaskMessageV1 } from './task-message';

/**
 * The `payload` of a v1 task message, as the API builds it (lambdas/services/task-payload.ts):
 * what an agent needs to do the task, without any credential.
 */
export const TaskPayloadV1 = z.looseObject({
  /** the template step */
  step: z.string(),
  /** the task type (what to do) */
  type: z.string(),
  /**
   * The step's config from the template, overridden by the application's config, then by the
   * environment's (credentials removed). A build step also gets `tags`:
   * `<image>:<git_tag>` and `<image>:latest`, where `<image>` is the application's
   * `config.image`, or its name.
   */
  config: z.record(z.string(), z.json()),
  application: z.looseObject({ id: z.string(), name: z.string(), repository: z.string(), type: z.string() }),
  environment: z.looseObject({ id: z.string(), name: z.string(), type: z.string() }),
  version: z.looseObject({
    id: z.string(),
    git_tag: z.string(),
    git_commit: z.string(),
    repository: z.string(),
  }),
  /** where credentials were removed (dotted paths, e.g. `kubeconfig`): use the ones you hold */
  secret_keys: z.array(z.string()),
});
export type TaskPayloadV1 = z.infer<typeof TaskPayloadV1>;

/** The message's payload, typed; throws a ZodError when it is not a v1 payload. */
export const parseTaskPayload = (message: Pick<TaskMessageV1, 'payload'>): TaskPayloadV1 =>
  TaskPayloadV1.parse(message.payload);
