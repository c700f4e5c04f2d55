import {
  MAX_CAUSE_LENGTH,
  MAX_ERROR_LENGTH,
  MAX_TASK_OUTPUT_BYTES,
  RESERVED_ERROR_PREFIXES,
  type TaskFailureReport,
  type TaskSuccessOutput,
} from '../../lambdas/agent-protocol';

/** What an agent tells Step Functions about a task. */
export type TaskAnswer =
  | { readonly kind: 'success'; readonly output: TaskSuccessOutput }
  | { readonly kind: 'failure'; readonly report: TaskFailureReport };

export const success = (output: TaskSuccessOutput): TaskAnswer => ({ kind: 'success', output });
export const failure = (error: string, cause: string): TaskAnswer => ({
  kind: 'failure',
  report: failureReport(error, cause),
});

/**
 * A failure report within the protocol's limits: the error code cut to 256 characters and
 * moved out of the reserved prefixes (`States.` would be retried as the workflow's own
 * fault), the cause cut to 32768 characters with a marker saying so.
 */
export function failureReport(error: string, cause: string): TaskFailureReport {
  let code = error.trim() === '' ? 'TaskFailed' : error.trim();
  if (RESERVED_ERROR_PREFIXES.some((prefix) => code.startsWith(prefix))) code = `Agent.${code}`;
  code = code.slice(0, MAX_ERROR_LENGTH);
  const marker = ' … (cut)';
  const text =
    cause.length > MAX_CAUSE_LENGTH ? `${cause.slice(0, MAX_CAUSE_LENGTH - marker.length)}${marker}` : cause;
  return { error: code, cause: text };
}

/** A success whose output is over the protocol's 32 KiB becomes a failure saying so. */
export function boundedSuccess(output: TaskSuccessOutput): TaskAnswer {
  const bytes = Buffer.byteLength(JSON.stringify(output), 'utf8');
  if (bytes <= MAX_TASK_OUTPUT_BYTES) return success(output);
  return failure(
    'ResultTooLarge',
    `the executor's result is ${bytes} bytes of JSON, over the ${MAX_TASK_OUTPUT_BYTES} bytes a task result may have; return URLs to large reports instead of their contents`,
  );
}
