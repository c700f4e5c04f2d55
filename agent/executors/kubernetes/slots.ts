import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { TaskFailure } from '../executor';
import type { Cluster } from './cluster';
import { DEPLOYMENT_ID_ANNOTATION } from './deploy';

/**
 * The blue-green slot model (docs/kubernetes.md). An application has two slot Deployments,
 * `<name>-blue` and `<name>-green`, whose pods carry `slot: <slot>`; its Service selects one
 * slot with `slot` in its selector. The template's "green" is the slot a deployment rolls
 * out to (the one the Service does not select), "blue" the one serving: slots alternate, so
 * a deployment after a switch to `-green` rolls out to `-blue`. Before the first switch, the
 * serving Deployment is the plain `<name>` (or `<name>-blue` if it exists).
 */

export const SLOT_LABEL = 'slot';
export type Slot = 'blue' | 'green';
export const SLOTS: readonly Slot[] = ['blue', 'green'];
export const otherSlot = (slot: Slot): Slot => (slot === 'blue' ? 'green' : 'blue');
export const slotDeploymentName = (base: string, slot: Slot): string => `${base}-${slot}`;

/** the slot the Service selects, if it selects one */
export function liveSlotOf(service: V1Service): Slot | undefined {
  const selected = service.spec?.selector?.[SLOT_LABEL];
  return selected === 'blue' || selected === 'green' ? selected : undefined;
}

export async function readService(cluster: Cluster, name: string): Promise<V1Service> {
  const subject = `service "${name}" in namespace "${cluster.namespace}"`;
  const service = await cluster.find(`reading ${subject}`, () =>
    cluster.core.readNamespacedService({ name, namespace: cluster.namespace }),
  );
  if (!service) throw new TaskFailure('ServiceNotFound', `${subject} does not exist`);
  return service;
}

export interface GreenDeployment {
  slot: Slot;
  deployment: V1Deployment;
  name: string;
}

/** The slot Deployment this deployment (of deploy-manager) rolled out, found by its annotation. */
export async function findGreen(
  cluster: Cluster,
  base: string,
  deploymentId: string,
): Promise<GreenDeployment | undefined> {
  for (const slot of SLOTS) {
    const name = slotDeploymentName(base, slot);
    const deployment = await cluster.find(
      `reading deployment "${name}" in namespace "${cluster.namespace}"`,
      () => cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace }),
    );
    if (deployment?.metadata?.annotations?.[DEPLOYMENT_ID_ANNOTATION] === deploymentId) {
      return { slot, deployment, name };
    }
  }
  return undefined;
}

export async function requireGreen(
  cluster: Cluster,
  base: string,
  deploymentId: string,
): Promise<GreenDeployment> {
  const green = await findGreen(cluster, base, deploymentId);
  if (!green) {
    throw new TaskFailure(
      'GreenNotFound',
      `neither "${slotDeploymentName(base, 'blue')}" nor "${slotDeploymentName(base, 'green')}" in namespace "${cluster.namespace}" was rolled out by deployment ${deploymentId}: deploy_green must run first`,
    );
  }
  return green;
}

export const selects = (
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean => Object.entries(selector).every(([key, value]) => labels?.[key] === value);
