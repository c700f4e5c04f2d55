import type { Application } from '../domain/application';
import { nowTimestamp } from '../domain/common';
import {
  CANCELLED_MESSAGE,
  type CancelDeploymentResponse,
  type CreateDeploymentRequest,
  type Deployment,
  type DeploymentListResponse,
  DeploymentStrategy,
  type ListDeploymentsRequest,
  MAX_EXECUTION_INPUT_BYTES,
  type RollbackRequest,
} from '../domain/deployment';
import type { Environment } from '../domain/environment';
import { newId } from '../domain/ids';
import type { Task } from '../domain/task';
import type { Version } from '../domain/version';
import type { WorkflowManager } from '../execution/workflow-manager';
import { ApiError, conflict, notFound } from '../http/errors';
import type { CreateRejection, DeploymentRepository } from '../store/deployment-repository';
import type { TaskRepository } from '../store/task-repository';
import { executionInputFor, type WorkflowTemplate } from '../workflow';
import type { BusinessMetrics } from './business-metrics';
import type { RequestContext } from './request-context';
import { buildTaskPayload } from './task-payload';

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

/** The API error for a deployment that cannot be created, or resumed, now. */
export function rejectionError(rejection: CreateRejection): ApiError {
  switch (rejection.reason) {
    case 'environment-busy':
      return conflict(
        `Environment already has an unfinished deployment${rejection.deploymentId ? ` (${rejection.deploymentId})` : ''}`,
        { deployment_id: rejection.deploymentId ?? null },
      );
    case 'environment-inactive':
      return conflict(`Environment ${rejection.id} is not active`, { environment_id: rejection.id });
    case 'missing':
      return notFound(rejection.kind[0]?.toUpperCase() + rejection.kind.slice(1), rejection.id);
  }
}

/** The environment's default strategy, when its config names a valid one. */
function defaultStrategy(environment: Environment): DeploymentStrategy {
  const configured = DeploymentStrategy.safeParse(environment.config.deployment_strategy);
  return configured.success ? configured.data : 'standard';
}

export function createDeploymentService(dependencies: DeploymentServiceDependencies): DeploymentService {
  const { deployments, tasks, workflows, metrics } = dependencies;

  async function loadTargets(request: CreateDeploymentRequest) {
    const [version, environment, applications] = await Promise.all([
      dependencies.versions.getById(request.version_id),
      dependencies.environments.getById(request.environment_id),
      Promise.all(request.application_ids.map((id) => dependencies.applications.getById(id))),
    ]);
    if (!version) throw notFound('Version', request.version_id);
    if (!environment) throw notFound('Environment', request.environment_id);
    const found: Application[] = [];
    request.application_ids.forEach((id, index) => {
      const application = applications[index];
      if (!application) throw notFound('Application', id);
      found.push(application);
    });
    if (!environment.is_active) {
      throw conflict(`Environment ${environment.id} is not active`, { environment_id: environment.id });
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
    const { steps } = template;
    const now = nowTimestamp();
    const deploymentId = newId('deployment');
    const clock = Date.now();
    const newTasks: Task[] = [];
    const executionApplications = applications.map((application, applicationIndex) => {
      const ids = new Map(
        steps.map((step, stepIndex) => [
          step.id,
          newId('task', clock + applicationIndex * steps.length + stepIndex),
        ]),
      );
      const entries = steps.map((step) => {
        const payload = buildTaskPayload({
          step,
          application,
          environment,
          version,
        });
        const taskId = ids.get(step.id) ?? newId('task');
        newTasks.push({
          id: taskId,
          deployment_id: deploymentId,
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
      id: deploymentId,
      version_id: version.id,
      application_ids: applications.map((application) => application.id),
      environment_id: environment.id,
      status: 'pending',
      created_by: context.caller.email,
      created_at: now,
      updated_at: now,
      started_at: null,
      completed_at: null,
      error_message: '',
      strategy,
      rollback_of: rollbackOf,
    };
    // The compiled definition reads nothing else: a payload the template cannot run fails here, not mid-workflow.
    const executionInput = JSON.stringify(
      executionInputFor(template).parse({
        deployment_id: deploymentId,
        version_id: version.id,
        environment_id: environment.id,
        strategy,
        applications: executionApplications,
      }),
    );
    const inputBytes = Buffer.byteLength(executionInput, 'utf8');
    if (inputBytes > MAX_EXECUTION_INPUT_BYTES) {
      // Step Functions would refuse it (or fail mid-run): refused before anything is written.
      throw new ApiError(
        'PAYLOAD_TOO_LARGE',
        413,
        `The deployment's workflow input would be ${inputBytes} bytes, over the ${MAX_EXECUTION_INPUT_BYTES} allowed: deploy fewer applications at once or shrink their and the environment's config`,
        { bytes: inputBytes, limit_bytes: MAX_EXECUTION_INPUT_BYTES },
      );
    }
    const rejection = await deployments.create({
      record: { deployment, executionInput, executionArn: null, resumes: 0 },
      tasks: newTasks,
    });
    if (rejection) throw rejectionError(rejection);
    metrics.deploymentCreated(strategy);

    try {
      const executionArn = await workflows.start(strategy, deploymentId, executionInput);
      await deployments.recordExecution(deploymentId, executionArn);
    } catch (error) {
      dependencies.reportFault('could not start the deployment workflow', error);
      const failedAt = nowTimestamp();
      await deployments.finishAsFailed(
        deploymentId,
        environment.id,
        'The workflow could not be started; create the deployment again',
        failedAt,
      );
      await deployments.failUnfinishedTasks(
        newTasks,
        taskAbortResult('WorkflowNotStarted', 'The workflow could not be started'),
        failedAt,
      );
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        503,
        'The deployment workflow could not be started; it was marked failed',
        {
          deployment_id: deploymentId,
        },
      );
    }
    return deployment;
  }

  async function getRecord(id: string) {
    const record = await deployments.getById(id);
    if (!record) throw notFound('Deployment', id);
    return record;
  }

  return {
    createDeployment: (context, request) => create(context, request, null),

    async getDeploymentList(request) {
      const { items, total } = await deployments.list(request);
      return { deployments: [...items], total, page: request.page, page_size: request.page_size };
    },

    getDeployment: async (id) => (await getRecord(id)).deployment,

    async cancelDeployment(_context, id) {
      const { deployment, executionArn } = await getRecord(id);
      if (deployment.status === 'success' || deployment.status === 'failed') {
        throw conflict(`Deployment ${id} has already finished (${deployment.status})`, {
          status: deployment.status,
        });
      }
      if (executionArn) await workflows.stop(executionArn, CANCELLED_MESSAGE);
      const at = nowTimestamp();
      if (!(await deployments.finishAsFailed(id, deployment.environment_id, CANCELLED_MESSAGE, at))) {
        const current = await getRecord(id);
        throw conflict(`Deployment ${id} has already finished (${current.deployment.status})`, {
          status: current.deployment.status,
        });
      }
      await deployments.failUnfinishedTasks(
        await tasks.getByDeploymentId(id),
        taskAbortResult('DeploymentCancelled', CANCELLED_MESSAGE),
        at,
      );
      metrics.deploymentCancelled();
      return { id, status: 'failed', error_message: CANCELLED_MESSAGE };
    },

    async rollbackDeployment(context, id, request) {
      const { deployment } = await getRecord(id);
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
