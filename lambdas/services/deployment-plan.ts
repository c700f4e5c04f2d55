import type { Application } from '../domain/application';
import { type Deployment, type DeploymentStrategy, MAX_EXECUTION_INPUT_BYTES } from '../domain/deployment';
import type { Environment } from '../domain/environment';
import { TooLarge } from '../domain/errors';
import type { Task } from '../domain/task';
import type { Version } from '../domain/version';
import { ExecutionInput, executionInputFor, type WorkflowTemplate } from '../workflow';
import { buildTaskPayload } from './task-payload';

export interface PlanSources {
  readonly deploymentId: string;
  readonly version: Version;
  readonly environment: Environment;
  readonly applications: readonly Application[];
  readonly strategy: DeploymentStrategy;
  readonly template: WorkflowTemplate;
  readonly createdBy: string;
  readonly rollbackOf: string | null;
  /** the creation time, as the service's timestamps */
  readonly now: string;
  /** the id of the task of one application (by index) and step (by index in the template) */
  readonly taskId: (applicationIndex: number, stepIndex: number) => string;
}

export interface DeploymentPlan {
  readonly deployment: Deployment;
  /** one pending task per application and step, in pipeline order (application, then step) */
  readonly tasks: readonly Task[];
  /** the Step Functions execution input (JSON), the same for every resume */
  readonly executionInput: string;
}

/**
 * What a new deployment is: the deployment, its tasks and the workflow input, before
 * anything is written. Pure, so the planning is tested on its own; the task ids come in
 * time order along the pipeline, so a deployment's tasks list oldest first in pipeline order.
 */
export function planDeployment(sources: PlanSources): DeploymentPlan {
  const { version, environment, template, now } = sources;
  const tasks: Task[] = [];
  const executionApplications = sources.applications.map((application, applicationIndex) => {
    const ids = new Map(
      template.steps.map((step, stepIndex) => [step.id, sources.taskId(applicationIndex, stepIndex)]),
    );
    const entries = template.steps.map((step) => {
      const payload = buildTaskPayload({ step, application, environment, version });
      const taskId = ids.get(step.id) ?? sources.taskId(applicationIndex, template.steps.indexOf(step));
      tasks.push({
        id: taskId,
        deployment_id: sources.deploymentId,
        type: step.type,
        status: 'pending',
        payload: JSON.stringify(payload),
        result: '',
        created_at: now,
        updated_at: now,
        started_at: null,
        completed_at: null,
        application_id: application.id,
        step_id: step.id,
        depends_on: step.depends_on.flatMap((dependency) => {
          const id = ids.get(dependency);
          return id ? [id] : [];
        }),
        attempt: 0,
      });
      return [step.id, { task_id: taskId, payload }] as const;
    });
    return { application_id: application.id, tasks: Object.fromEntries(entries) };
  });
  const deployment: Deployment = {
    id: sources.deploymentId,
    version_id: version.id,
    application_ids: sources.applications.map((application) => application.id),
    environment_id: environment.id,
    status: 'pending',
    created_by: sources.createdBy,
    created_at: now,
    updated_at: now,
    started_at: null,
    completed_at: null,
    error_message: '',
    strategy: sources.strategy,
    rollback_of: sources.rollbackOf,
  };
  // The compiled definition reads nothing else: a payload the template cannot run fails here, not mid-workflow.
  const executionInput = JSON.stringify(
    executionInputFor(template).parse({
      deployment_id: deployment.id,
      version_id: version.id,
      environment_id: environment.id,
      strategy: sources.strategy,
      applications: executionApplications,
    }),
  );
  const inputBytes = Buffer.byteLength(executionInput, 'utf8');
  if (inputBytes > MAX_EXECUTION_INPUT_BYTES) {
    // Step Functions would refuse it (or fail mid-run): refused before anything is written.
    throw new TooLarge(
      `The deployment's workflow input would be ${inputBytes} bytes, over the ${MAX_EXECUTION_INPUT_BYTES} allowed: deploy fewer applications at once or shrink their and the environment's config`,
      { bytes: inputBytes, limit_bytes: MAX_EXECUTION_INPUT_BYTES },
    );
  }
  return { deployment, tasks, executionInput };
}

/** The task ids of an execution input, in pipeline order: what a cancel must fail. */
export function taskIdsOfExecutionInput(executionInput: string): string[] {
  const { applications } = ExecutionInput.parse(JSON.parse(executionInput));
  return applications.flatMap((application) => Object.values(application.tasks).map((task) => task.task_id));
}
