import type { V1Deployment } from '@kubernetes/client-node';
import type { TaskSuccessOutput } from '../../../lambdas/agent-protocol';
import { type Executor, type TaskContext, TaskFailure } from '../executor';
import { imageReference } from '../image';
import { type Cluster, connectToCluster, PatchStrategy } from './cluster';
import { revisionOf, waitForRollout } from './rollout';
import { DeployConfig, deploymentNameOf, parseStepConfig } from './step-config';

export interface KubernetesExecutorOptions {
  /** how often a rollout or the Service's endpoints are read while waiting (default 2000 ms) */
  pollIntervalMs?: number;
}

export const DEPLOYMENT_ID_ANNOTATION = 'deploy-manager.io/deployment-id';
export const VERSION_ANNOTATION = 'deploy-manager.io/version';

export async function readDeployment(cluster: Cluster, name: string): Promise<V1Deployment> {
  const subject = `deployment "${name}" in namespace "${cluster.namespace}"`;
  const deployment = await cluster.find(`reading ${subject}`, () =>
    cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace }),
  );
  if (!deployment) throw new TaskFailure('DeploymentNotFound', `${subject} does not exist`);
  return deployment;
}

/** The container whose image a deploy sets: the one the config names, or the first. */
export function containerOf(deployment: V1Deployment, wanted: string | undefined): string {
  const name = deployment.metadata?.name ?? '';
  const containers = deployment.spec?.template.spec?.containers ?? [];
  const found = wanted ? containers.find((container) => container.name === wanted) : containers[0];
  if (!found) {
    throw new TaskFailure(
      'ContainerNotFound',
      `deployment "${name}" has no container ${wanted ? `"${wanted}"` : ''} (it has ${containers.map((container) => `"${container.name}"`).join(', ') || 'none'})`,
    );
  }
  return found.name;
}

/**
 * `deploy`: sets the Deployment's image, replicas and rolling-update budget with one
 * strategic merge patch (as `kubectl set image` / `kubectl patch` do), then waits for the
 * rollout the way `kubectl rollout status` does.
 */
export function deployExecutor(options: KubernetesExecutorOptions): Executor {
  return {
    type: 'deploy',
    async execute(context: TaskContext): Promise<TaskSuccessOutput> {
      const config = parseStepConfig(DeployConfig, context.payload);
      const cluster = await connectToCluster(context);
      const name = deploymentNameOf(config, context.payload);
      const image = imageReference(context.payload, context.target.registry);
      const current = await readDeployment(cluster, name);
      const container = containerOf(current, config.container);
      const strategy =
        config.strategy === 'recreate'
          ? { type: 'Recreate', rollingUpdate: null }
          : {
              type: 'RollingUpdate',
              ...(config.max_unavailable !== undefined
                ? { rollingUpdate: { maxUnavailable: config.max_unavailable } }
                : {}),
            };
      const patch = {
        metadata: {
          annotations: {
            [DEPLOYMENT_ID_ANNOTATION]: context.message.deployment_id,
            [VERSION_ANNOTATION]: context.payload.version.git_tag,
          },
        },
        spec: {
          ...(config.replicas !== undefined ? { replicas: config.replicas } : {}),
          strategy,
          template: { spec: { containers: [{ name: container, image }] } },
        },
      };
      context.log.info(
        `setting deployment "${name}" container "${container}" to ${image}${config.replicas !== undefined ? `, ${config.replicas} replicas` : ''}${config.max_unavailable !== undefined ? `, max unavailable ${config.max_unavailable}` : ''}`,
      );
      await cluster.call(`updating deployment "${name}" in namespace "${cluster.namespace}"`, () =>
        cluster.patching(PatchStrategy.StrategicMergePatch).apps.patchNamespacedDeployment({
          name,
          namespace: cluster.namespace,
          body: patch,
          fieldManager: 'deploy-manager',
        }),
      );
      const done = await waitForRollout(cluster, name, {
        signal: context.signal,
        log: context.log,
        pollIntervalMs: options.pollIntervalMs ?? 2000,
      });
      const revision = revisionOf(done);
      context.log.info(`deployment "${name}" rolled out${revision ? ` (revision ${revision})` : ''}`);
      return {
        deployment: name,
        namespace: cluster.namespace,
        image,
        replicas: done.spec?.replicas ?? 1,
        ...(revision ? { revision } : {}),
      };
    },
  };
}
