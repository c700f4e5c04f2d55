import * as z from 'zod';

/**
 * The SQS message body a deploy agent receives for one task (built by the workflow's
 * `<step>.Dispatch` state). Version "1" only grows by optional fields; anything else gets
 * a new `protocol_version` and a new schema, so agents ignore members they do not know.
 */
export const TASK_MESSAGE_PROTOCOL_VERSION = '1';

const Id = z.string().min(1).max(128);

export const TaskMessageV1 = z.object({
  protocol_version: z.literal(TASK_MESSAGE_PROTOCOL_VERSION),
  task_id: Id,
  /** what to do: build, test, deploy, health_check, deploy_green, switch_traffic, cleanup_blue, … */
  task_type: z.string().min(1).max(64),
  /** the template step this task instantiates (unique within the workflow) */
  step_id: z.string().min(1).max(64),
  deployment_id: Id,
  application_id: Id,
  environment_id: Id,
  version_id: Id,
  /** 1 on the first run, one more on every retry of the task */
  attempt: z.number().int().min(1),
  /** the task's payload: step config merged with application and environment config, never secrets */
  payload: z.record(z.string(), z.json()),
  /** the Step Functions task token to answer with (SendTaskSuccess / Failure / Heartbeat) */
  task_token: z.string().min(1).max(1024),
  /** send a heartbeat at least this often, or the task fails with States.HeartbeatTimeout */
  heartbeat_seconds: z.number().int().positive(),
  /** the task fails with States.Timeout after this long, heartbeats or not */
  timeout_seconds: z.number().int().positive(),
});
export type TaskMessageV1 = z.infer<typeof TaskMessageV1>;

/** A message body that is not a valid TaskMessageV1 (the reason never quotes the token). */
export class InvalidTaskMessageError extends Error {
  override readonly name = 'InvalidTaskMessageError';
}

/**
 * Parses an SQS message body. An agent that cannot parse a message should not answer it
 * (it may lack a usable token): leave it to the queue's redrive policy (dead-letter queue).
 */
export function parseTaskMessage(body: string): TaskMessageV1 {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidTaskMessageError('The message body is not JSON');
  }
  const parsed = TaskMessageV1.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    throw new InvalidTaskMessageError(`The message is not a task message v1 (${fields.join('; ')})`);
  }
  return parsed.data;
}
