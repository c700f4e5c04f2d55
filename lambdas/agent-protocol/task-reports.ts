import * as z from 'zod';
import type { TaskMessageV1 } from './task-message';

/**
 * What an agent reports back to Step Functions for a task, and the request shapes of the
 * three SFN calls (plain objects: pass them to SendTaskSuccess/Failure/HeartbeatCommand).
 */

/**
 * Largest SendTaskSuccess output (UTF-8 bytes) the workflow can carry. Step Functions takes
 * up to 256 KiB, but the output joins the execution's state, which holds 256 KiB in all
 * next to the deployment's input (up to 192 KiB, MAX_EXECUTION_INPUT_BYTES); a state over the
 * limit fails the whole execution with States.DataLimitExceeded, which no Catch can handle.
 */
export const MAX_TASK_OUTPUT_BYTES = 32 * 1024;
export const MAX_ERROR_LENGTH = 256;
export const MAX_CAUSE_LENGTH = 32_768;

/**
 * Error name prefixes the workflow reserves: `States.` for Step Functions' own errors, and
 * the integrations' prefixes, which its Retry policies match (an agent error named like
 * them would be retried as an SQS fault).
 */
export const RESERVED_ERROR_PREFIXES = ['States.', 'SQS.', 'DynamoDB.'] as const;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * The task's result: any JSON object (e.g. `{"image": "org/app:v1.0.0"}`), stored as the
 * task's `result` text; at most MAX_TASK_OUTPUT_BYTES (32 KiB): keep logs and reports
 * elsewhere and return their URLs.
 */
export const TaskSuccessOutput = z
  .record(z.string(), z.json())
  .refine((output) => utf8Bytes(JSON.stringify(output)) <= MAX_TASK_OUTPUT_BYTES, {
    message: `the output must be at most ${MAX_TASK_OUTPUT_BYTES} bytes of JSON`,
  });
export type TaskSuccessOutput = z.infer<typeof TaskSuccessOutput>;

export const TaskFailureReport = z.object({
  /** a short error code, e.g. `HealthCheckFailed` */
  error: z
    .string()
    .min(1)
    .max(MAX_ERROR_LENGTH)
    .refine((error) => !RESERVED_ERROR_PREFIXES.some((prefix) => error.startsWith(prefix)), {
      message: `must not start with ${RESERVED_ERROR_PREFIXES.join(', ')}`,
    }),
  /** what went wrong, for people: it ends up in the task's result and the deployment's error_message */
  cause: z.string().max(MAX_CAUSE_LENGTH),
});
export type TaskFailureReport = z.infer<typeof TaskFailureReport>;

export const TaskHeartbeat = z.object({ task_token: z.string().min(1).max(1024) });
export type TaskHeartbeat = z.infer<typeof TaskHeartbeat>;

/** SendTaskSuccess input; throws a ZodError when the output breaks the contract. */
export function taskSuccessRequest(
  message: Pick<TaskMessageV1, 'task_token'>,
  output: TaskSuccessOutput,
): { taskToken: string; output: string } {
  return { taskToken: message.task_token, output: JSON.stringify(TaskSuccessOutput.parse(output)) };
}

/** SendTaskFailure input; throws a ZodError when the report breaks the contract. */
export function taskFailureRequest(
  message: Pick<TaskMessageV1, 'task_token'>,
  report: TaskFailureReport,
): { taskToken: string; error: string; cause: string } {
  const { error, cause } = TaskFailureReport.parse(report);
  return { taskToken: message.task_token, error, cause };
}

/** SendTaskHeartbeat input. */
export function taskHeartbeatRequest(message: Pick<TaskMessageV1, 'task_token'>): { taskToken: string } {
  return { taskToken: TaskHeartbeat.parse({ task_token: message.task_token }).task_token };
}

/** How often to heartbeat: a third of the allowance, so two beats may be lost. */
export const heartbeatIntervalMs = (message: Pick<TaskMessageV1, 'heartbeat_seconds'>): number =>
  Math.max(100, Math.floor((message.heartbeat_seconds * 1000) / 3));
