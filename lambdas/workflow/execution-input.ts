import * as z from 'zod';
import { WorkflowStrategy, type WorkflowTemplate } from './templates';

/**
 * The input the API passes to StartExecution, and the only data the compiled definition
 * reads. A retry starts a new execution with the very same input.
 */

const prefixedId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9]+$`), `an id starting with ${prefix}_`);

/** Any JSON object: what a task's payload may be (secrets already removed by the API). */
export const JsonObjectSchema = z.record(z.string(), z.json());

export const ExecutionTask = z.strictObject({
  task_id: prefixedId('task'),
  payload: JsonObjectSchema,
});
export type ExecutionTask = z.infer<typeof ExecutionTask>;

export const ExecutionApplication = z.strictObject({
  application_id: prefixedId('app'),
  /** keyed by the template's step id */
  tasks: z.record(z.string(), ExecutionTask),
});
export type ExecutionApplication = z.infer<typeof ExecutionApplication>;

export const ExecutionInput = z.strictObject({
  deployment_id: prefixedId('dep'),
  version_id: prefixedId('ver'),
  environment_id: prefixedId('env'),
  strategy: WorkflowStrategy,
  applications: z.array(ExecutionApplication).min(1),
});
export type ExecutionInput = z.infer<typeof ExecutionInput>;

/**
 * ExecutionInput, plus: every application has exactly one task per step of `template`
 * (the definition reads `$.tasks.<step id>` and fails the execution if one is missing).
 */
export function executionInputFor(template: WorkflowTemplate) {
  const stepIds = template.steps.map((step) => step.id);
  return ExecutionInput.superRefine((input, context) => {
    input.applications.forEach((application, index) => {
      const missing = stepIds.filter((id) => !(id in application.tasks));
      const extra = Object.keys(application.tasks).filter((id) => !stepIds.includes(id));
      if (missing.length > 0 || extra.length > 0) {
        context.addIssue({
          code: 'custom',
          path: ['applications', index, 'tasks'],
          message: `tasks must be exactly the steps of ${template.name} (missing: ${missing.join(', ') || 'none'}; unknown: ${extra.join(', ') || 'none'})`,
        });
      }
    });
  });
}
