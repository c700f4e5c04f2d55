import type { Application } from '../domain/application';
import { listAnswer, nowTimestamp } from '../domain/common';
import {
  CANCELLED_MESSAGE,
  type CancelDeploymentResponse,
  type CreateDeploymentRequest,
  type Deployment,
  type DeploymentListResponse,
  DeploymentStrategy,
  type ListDeploymentsRequest,
  type RollbackRequest,
} from '../domain/deployment';
import type { Environment } from '../domain/environment';
import { Conflict, NotFound } from '../domain/errors';
import { newId } from '../domain/ids';
import type { Version } from '../domain/version';
import { launchWorkflow } from '../execution/launch-workflow';
import { executionNameOf, type WorkflowManager } from '../execution/workflow-manager';
import type { BusinessMetrics } from '../metrics/business-metrics';
import type { DeploymentRecord, DeploymentRepository } from '../store/deployment-repository';
import type { TaskRepository } from '../store/task-repository';
import type { WorkflowTemplate } from '../workflow';
import { planDeployment, taskIdsOfExecutionInput } from './deployment-plan';
import type { RequestContext } from './request-context';

export interface DeploymentService {
  createDeployment(context: RequestContext, request: CreateDeploymentRequest): Promise<Deployment>;
  getDeploymentList(request: ListDeploymentsRequest): Promise<DeploymentListResponse>;
  getDeployment(id: string): Promise<Deployment>;
  cancelDeployment(context: RequestContext, id: string): Promise<CancelDeploymentResponse>;
  rollbackDeployment(context: RequestContext, id: string, request: RollbackRequest): Promise<Deployment>;
}

export interface DeploymentServiceDependencies {
  readonly deployments: DeploymentRepository;
  readonly tasks: TaskRepository;
  readonly versions: { getById(id: string): Promise<Version | undefined> };
  readonly applications: { getById(id: string): Promise<Application | undefined> };
  readonly environments: { getById(id: string): Promise<Environment | undefined> };
  readonly workflows: WorkflowManager;
  readonly templates: Readonly<Record<DeploymentStrategy, WorkflowTemplate>>;
  readonly metrics: BusinessMetrics;
  /** logs a fault the caller gets as a clean error */
  readonly reportFault: (message: string, error: unknown) => void;
}

/** The result JSON a task gets when its deployment ends without it running. */
export const taskAbortResult = (error: string, cause: string): string => JSON.stringify({ error, cause });

/** The environment's default strategy, when its config names a valid one. */
function defaultStrategy(environment: Environment): DeploymentStrategy {
  const configured = DeploymentStrategy.safeParse(environment.config.deployment_strategy);
  return configured.success ? configured.data : 'standard';
}

/** The same repository however it is written (`.git`, a trailing slash, the host's case). */
export function sameRepository(left: string, right: string): boolean {
  const canonical = (url: string) =>
    url
      .trim()
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .toLowerCase();
  return canonical(left) === canonical(right);
}

const allowsForeignVersions = (application: Application): boolean =>
  application.config.allow_foreign_versions === true || application.config.allow_foreign_versions === 'true';

/** Ends a deployment whose workflow will never run, and every task it has, as failed. */
export async function abandonDeployment(
  deployments: DeploymentRepository,
  record: DeploymentRecord,
  message: string,
  taskResult: string,
): Promise<boolean> {
  const at = nowTimestamp();
  const ended = await deployments.finishAsFailed(record, message, at);
  // A deployment that had finished keeps its tasks as they are.
  if (ended)
    await deployments.failUnfinishedTasks(taskIdsOfExecutionInput(record.executionInput), taskResult, at);
  return ended;
}

export function createDeploymentService(dependencies: DeploymentServiceDependencies): DeploymentService {
  const { deployments, workflows, metrics } = dependencies;

  async function loadTargets(request: CreateDeploymentRequest) {
    const [version, environment, applications] = await Promise.all([
      dependencies.versions.getById(request.version_id),
      dependencies.environments.getById(request.environment_id),
      Promise.all(request.application_ids.map((id) => dependencies.applications.getById(id))),
    ]);
    if (!version) throw new NotFound('Version', request.version_id);
    if (!environment) throw new NotFound('Environment', request.environment_id);
    const found: Application[] = [];
    request.application_ids.forEach((id, index) => {
      const application = applications[index];
      if (!application) throw new NotFound('Application', id);
      found.push(application);
    });
    if (!environment.is_active) {
      throw new Conflict(`Environment ${environment.id} is not active`, { environment_id: environment.id });
    }
    for (const application of found) {
      // A version names a commit of one repository; built from another, it is not what was asked for.
      if (
        !sameRepository(application.repository, version.repository) &&
        !allowsForeignVersions(application)
      ) {
        throw new Conflict(
          `Version ${version.id} is a commit of ${version.repository}, but application ${application.id} builds from ${application.repository}; set the application's config.allow_foreign_versions to true to deploy versions of other repositories`,
          { version_id: version.id, application_id: application.id },
        );
      }
    }
    return { version, environment, applications: found };
  }

  async function create(
    context: RequestContext,
    request: CreateDeploymentRequest,
    rollbackOf: string | null,
  ): Promise<Deployment> {
    const { version, environment, applications } = await loadTargets(request);
    const strategy = request.strategy ?? defaultStrategy(environment);
    const template = dependencies.templates[strategy];
    const clock = Date.now();
    const plan = planDeployment({
      deploymentId: newId('deployment', clock),
      version,
      environment,
      applications,
      strategy,
      template,
      createdBy: context.caller.email,
      rollbackOf,
      now: nowTimestamp(new Date(clock)),
      taskId: (applicationIndex, stepIndex) =>
        newId('task', clock + applicationIndex * template.steps.length + stepIndex),
    });
    const record: DeploymentRecord = {
      deployment: plan.deployment,
      executionInput: plan.executionInput,
      resumes: 0,
    };
    await deployments.create({ record, tasks: plan.tasks });
    metrics.deploymentCreated(strategy);

    await launchWorkflow(dependencies, {
      strategy,
      executionName: executionNameOf(record.deployment.id, 0),
      input: record.executionInput,
      abandon: () =>
        abandonDeployment(
          deployments,
          record,
          'The workflow could not be started; create the deployment again',
          taskAbortResult('WorkflowNotStarted', 'The workflow could not be started'),
        ).then(() => undefined),
      unavailableMessage: 'The deployment workflow could not be started; it was marked failed',
      details: { deployment_id: record.deployment.id },
    });
    return plan.deployment;
  }

  async function getRecord(id: string) {
    const record = await deployments.getById(id);
    if (!record) throw new NotFound('Deployment', id);
    return record;
  }

  const finished = (deployment: Deployment) =>
    new Conflict(`Deployment ${deployment.id} has already finished (${deployment.status})`, {
      status: deployment.status,
    });

  return {
    createDeployment: (context, request) => create(context, request, null),

    getDeploymentList: async (request) => listAnswer('deployments', await deployments.list(request), request),

    getDeployment: async (id) => (await getRecord(id)).deployment,

    /**
     * Stops the execution that runs the deployment now — named by its resume counter, so a
     * retry that is still starting it is stopped too (or, starting after this, finds the
     * deployment failed and runs nothing) — then ends the deployment and every unfinished task.
     */
    async cancelDeployment(_context, id) {
      const record = await getRecord(id);
      const { deployment } = record;
      if (deployment.status === 'success' || deployment.status === 'failed') throw finished(deployment);
      await workflows.stop(
        workflows.executionArn(deployment.strategy, executionNameOf(id, record.resumes)),
        CANCELLED_MESSAGE,
      );
      const cancelled = await abandonDeployment(
        deployments,
        record,
        CANCELLED_MESSAGE,
        taskAbortResult('DeploymentCancelled', CANCELLED_MESSAGE),
      );
      if (!cancelled) throw finished((await getRecord(id)).deployment);
      metrics.deploymentCancelled();
      return { id, status: 'failed', error_message: CANCELLED_MESSAGE };
    },

    async rollbackDeployment(context, id, request) {
      const { deployment } = await getRecord(id);
      if (request.target_version_id === deployment.version_id && request.force !== true) {
        throw new Conflict(
          `Deployment ${id} shipped version ${deployment.version_id} already: rolling back to it changes nothing; pass "force": true to deploy it again`,
          { version_id: deployment.version_id },
        );
      }
      return create(
        context,
        {
          version_id: request.target_version_id,
          application_ids: deployment.application_ids,
          environment_id: deployment.environment_id,
          strategy: deployment.strategy,
        },
        id,
      );
    },
  };
}
