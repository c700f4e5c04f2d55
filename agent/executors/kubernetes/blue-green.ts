import type { V1Deployment, V1EndpointSlice } from '@kubernetes/client-node';
import { type Executor, type TaskContext, TaskFailure } from '../executor';
import { imageReference } from '../image';
import { type Cluster, connectToCluster, PatchStrategy } from './cluster';
import {
  containerOf,
  DEPLOYMENT_ID_ANNOTATION,
  type KubernetesExecutorOptions,
  readDeployment,
  VERSION_ANNOTATION,
} from './deploy';
import { revisionOf, rolloutState, waitForRollout } from './rollout';
import {
  findGreen,
  liveSlotOf,
  otherSlot,
  readService,
  requireGreen,
  SLOT_LABEL,
  type Slot,
  selects,
  slotDeploymentName,
} from './slots';
import {
  CleanupBlueConfig,
  DeployGreenConfig,
  deploymentNameOf,
  parseStepConfig,
  SwitchTrafficConfig,
} from './step-config';
import { sleep } from './wait';

const FIELD_MANAGER = 'deploy-manager';

/** The serving Deployment green is copied from: the live slot's, else `<name>-blue`, else `<name>`. */
async function blueOf(cluster: Cluster, base: string, live: Slot | undefined): Promise<V1Deployment> {
  if (live) return readDeployment(cluster, slotDeploymentName(base, live));
  const blue = await cluster.find(`reading deployment "${base}-blue"`, () =>
    cluster.apps.readNamespacedDeployment({
      name: slotDeploymentName(base, 'blue'),
      namespace: cluster.namespace,
    }),
  );
  return blue ?? readDeployment(cluster, base);
}

/** Green as an applied configuration: blue's spec, its own name, `slot` label and selector, the new image. */
function greenManifest(
  blue: V1Deployment,
  name: string,
  slot: Slot,
  container: string,
  image: string,
  replicas: number,
  annotations: Record<string, string>,
  namespace: string,
) {
  const spec = blue.spec;
  const template = JSON.parse(JSON.stringify(spec?.template ?? {})) as {
    metadata?: { labels?: Record<string, string>; creationTimestamp?: unknown };
    spec?: { containers?: { name: string; image?: string }[] };
  };
  const podLabels = { ...(template.metadata?.labels ?? {}), [SLOT_LABEL]: slot };
  const { creationTimestamp: _, ...templateMetadata } = template.metadata ?? {};
  const containers = (template.spec?.containers ?? []).map((each) =>
    each.name === container ? { ...each, image } : each,
  );
  const selector = spec?.selector;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { ...(blue.metadata?.labels ?? {}), [SLOT_LABEL]: slot },
      annotations,
    },
    spec: {
      replicas,
      selector: {
        ...(selector?.matchExpressions ? { matchExpressions: selector.matchExpressions } : {}),
        matchLabels: { ...(selector?.matchLabels ?? {}), [SLOT_LABEL]: slot },
      },
      ...(spec?.strategy ? { strategy: spec.strategy } : {}),
      ...(spec?.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
      ...(spec?.progressDeadlineSeconds !== undefined
        ? { progressDeadlineSeconds: spec.progressDeadlineSeconds }
        : {}),
      ...(spec?.revisionHistoryLimit !== undefined
        ? { revisionHistoryLimit: spec.revisionHistoryLimit }
        : {}),
      template: {
        ...template,
        metadata: { ...templateMetadata, labels: podLabels },
        spec: { ...template.spec, containers },
      },
    },
  };
}

/**
 * What every blue-green step needs beside its config: the cluster, the application's base
 * Deployment name and the Service that selects a slot (config `service`, else that name).
 */
async function openSlots(
  config: DeployGreenConfig | SwitchTrafficConfig | CleanupBlueConfig,
  context: TaskContext,
): Promise<{ cluster: Cluster; base: string; serviceName: string }> {
  const cluster = await connectToCluster(context);
  const base = deploymentNameOf(config, context.payload);
  return { cluster, base, serviceName: config.service ?? base };
}

/**
 * `deploy_green`: applies (server-side apply) the idle slot's Deployment as a copy of the
 * serving one with the new image, and waits until it is fully available.
 */
export function deployGreenExecutor(options: KubernetesExecutorOptions): Executor {
  return {
    type: 'deploy_green',
    async execute(context: TaskContext) {
      const config = parseStepConfig(DeployGreenConfig, context.payload);
      const { cluster, base, serviceName } = await openSlots(config, context);
      const deploymentId = context.message.deployment_id;
      const service = await readService(cluster, serviceName);
      const live = liveSlotOf(service);
      const retried = await findGreen(cluster, base, deploymentId);
      // A retry keeps the slot it chose the first time (even one already switched to).
      const slot = retried?.slot ?? (live === 'green' ? 'blue' : 'green');
      const blue = await blueOf(cluster, base, live);
      const blueName = blue.metadata?.name ?? base;
      const name = slotDeploymentName(base, slot);
      const container = containerOf(blue, config.container);
      const image = imageReference(context.payload, context.target.registry);
      const replicas = config.replicas ?? blue.spec?.replicas ?? 1;
      context.log.info(
        `service "${serviceName}" serves ${live ? `slot ${live}` : `deployment "${blueName}"`}; rolling out ${image} to "${name}" (slot ${slot}, ${replicas} replicas)`,
      );
      const serviceSelector = service.spec?.selector ?? {};
      if (
        !live &&
        selects(serviceSelector, { ...(blue.spec?.template.metadata?.labels ?? {}), [SLOT_LABEL]: slot })
      ) {
        context.log.info(
          `warning: service "${serviceName}" selects ${JSON.stringify(serviceSelector)}, which matches the pods of "${name}" too: they get traffic as soon as they are ready, before switch_traffic (label blue's pods and the selector with ${SLOT_LABEL}: docs/kubernetes.md)`,
        );
      }
      const manifest = greenManifest(
        blue,
        name,
        slot,
        container,
        image,
        replicas,
        { [DEPLOYMENT_ID_ANNOTATION]: deploymentId, [VERSION_ANNOTATION]: context.payload.version.git_tag },
        cluster.namespace,
      );
      await cluster.call(`applying deployment "${name}" in namespace "${cluster.namespace}"`, () =>
        cluster.patching(PatchStrategy.ServerSideApply).apps.patchNamespacedDeployment({
          name,
          namespace: cluster.namespace,
          body: manifest,
          fieldManager: FIELD_MANAGER,
          force: true,
        }),
      );
      const done = await waitForRollout(cluster, name, {
        signal: context.signal,
        log: context.log,
        pollIntervalMs: options.pollIntervalMs ?? 2000,
      });
      const revision = revisionOf(done);
      return {
        deployment: name,
        slot,
        blue: blueName,
        service: serviceName,
        namespace: cluster.namespace,
        image,
        replicas,
        ...(revision ? { revision } : {}),
      };
    },
  };
}

/** Ready endpoints of the Service that are pods of the given Deployment. */
async function readyEndpointsOn(cluster: Cluster, service: string, deployment: string): Promise<number> {
  const slices = await cluster.call(`reading the endpoints of service "${service}"`, () =>
    cluster.discovery.listNamespacedEndpointSlice({
      namespace: cluster.namespace,
      labelSelector: `kubernetes.io/service-name=${service}`,
    }),
  );
  return slices.items
    .flatMap((slice: V1EndpointSlice) => slice.endpoints ?? [])
    .filter(
      (endpoint) =>
        endpoint.conditions?.ready !== false && (endpoint.targetRef?.name ?? '').startsWith(`${deployment}-`),
    ).length;
}

const setSlot = (cluster: Cluster, service: string, slot: string | null) =>
  cluster.patching(PatchStrategy.MergePatch).core.patchNamespacedService({
    name: service,
    namespace: cluster.namespace,
    body: { spec: { selector: { [SLOT_LABEL]: slot } } },
    fieldManager: FIELD_MANAGER,
  });

/**
 * `switch_traffic`: points the Service's selector at green's slot, only when green is fully
 * available; then waits for ready endpoints on green's pods, and switches back if none come.
 */
export function switchTrafficExecutor(options: KubernetesExecutorOptions): Executor {
  return {
    type: 'switch_traffic',
    async execute(context: TaskContext) {
      const config = parseStepConfig(SwitchTrafficConfig, context.payload);
      const { cluster, base, serviceName } = await openSlots(config, context);
      const green = await requireGreen(cluster, base, context.message.deployment_id);
      const state = rolloutState(green.deployment);
      const wanted = green.deployment.spec?.replicas ?? 1;
      if (state.phase !== 'complete' || wanted === 0) {
        throw new TaskFailure(
          'GreenNotAvailable',
          `deployment "${green.name}" is not fully available (${state.progress}): service "${serviceName}" was not switched`,
        );
      }
      const service = await readService(cluster, serviceName);
      const previous = service.spec?.selector?.[SLOT_LABEL];
      const selector = { ...(service.spec?.selector ?? {}), [SLOT_LABEL]: green.slot };
      if (!selects(selector, green.deployment.spec?.template.metadata?.labels)) {
        context.log.info(
          `warning: the pods of "${green.name}" do not carry every label of the selector ${JSON.stringify(selector)}`,
        );
      }
      if (previous !== green.slot) {
        context.log.info(
          `switching service "${serviceName}" from ${previous ? `slot ${previous}` : 'its unslotted selector'} to slot ${green.slot}`,
        );
        await cluster.call(`switching service "${serviceName}" to slot ${green.slot}`, () =>
          setSlot(cluster, serviceName, green.slot),
        );
      }
      const deadline = Date.now() + config.endpoints_timeout * 1000;
      const pollIntervalMs = options.pollIntervalMs ?? 2000;
      for (;;) {
        const ready = await readyEndpointsOn(cluster, serviceName, green.name);
        if (ready > 0) {
          context.log.info(`service "${serviceName}" has ${ready} ready endpoints on "${green.name}"`);
          return {
            service: serviceName,
            namespace: cluster.namespace,
            slot: green.slot,
            deployment: green.name,
            ready_endpoints: ready,
            ...(previous ? { previous_slot: previous } : {}),
          };
        }
        if (Date.now() >= deadline) break;
        await sleep(pollIntervalMs, context.signal, `waiting for endpoints of service "${serviceName}"`);
      }
      if (previous === green.slot) {
        throw new TaskFailure(
          'NoReadyEndpoints',
          `service "${serviceName}" selects slot ${green.slot} but has no ready endpoints on "${green.name}"`,
        );
      }
      await cluster.call(`switching service "${serviceName}" back`, () =>
        setSlot(cluster, serviceName, previous ?? null),
      );
      throw new TaskFailure(
        'TrafficSwitchRolledBack',
        `service "${serviceName}" had no ready endpoints on "${green.name}" ${config.endpoints_timeout} s after switching to slot ${green.slot}; it was switched back to ${previous ? `slot ${previous}` : 'its previous selector'}`,
      );
    },
  };
}

/**
 * `cleanup_blue`: after `delay` seconds (abortable), deletes the Deployments green replaced
 * (the other slot's and the plain `<name>`), never one whose pods the Service selects.
 */
export function cleanupBlueExecutor(): Executor {
  return {
    type: 'cleanup_blue',
    async execute(context: TaskContext) {
      const config = parseStepConfig(CleanupBlueConfig, context.payload);
      const { cluster, base, serviceName } = await openSlots(config, context);
      const green = await requireGreen(cluster, base, context.message.deployment_id);
      const requireSwitched = async () => {
        const service = await readService(cluster, serviceName);
        if (liveSlotOf(service) !== green.slot) {
          throw new TaskFailure(
            'TrafficNotSwitched',
            `service "${serviceName}" does not select slot ${green.slot} ("${green.name}"): blue is kept`,
          );
        }
        return service.spec?.selector ?? {};
      };
      await requireSwitched();
      context.log.info(`removing blue in ${config.delay} s`);
      await sleep(config.delay * 1000, context.signal, 'waiting to remove blue');
      const selector = await requireSwitched();
      const deleted: string[] = [];
      for (const name of [slotDeploymentName(base, otherSlot(green.slot)), base]) {
        const blue = await cluster.find(`reading deployment "${name}"`, () =>
          cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace }),
        );
        if (!blue) continue;
        if (selects(selector, blue.spec?.template.metadata?.labels)) {
          context.log.info(`keeping deployment "${name}": service "${serviceName}" selects its pods`);
          continue;
        }
        const removed = await cluster.find(
          `deleting deployment "${name}" in namespace "${cluster.namespace}"`,
          () =>
            cluster.apps.deleteNamespacedDeployment({
              name,
              namespace: cluster.namespace,
              propagationPolicy: 'Background',
            }),
        );
        if (removed) {
          context.log.info(`deleted deployment "${name}"`);
          deleted.push(name);
        }
      }
      return { deleted, kept: green.name, service: serviceName, namespace: cluster.namespace };
    },
  };
}
