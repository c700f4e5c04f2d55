import type { V1Deployment } from '@kubernetes/client-node';
import { TaskFailure, type TaskLog } from '../executor';
import type { Cluster } from './cluster';
import { sleep } from './wait';

export type RolloutState =
  | { phase: 'waiting'; progress: string }
  | { phase: 'complete'; progress: string }
  | { phase: 'deadline-exceeded'; progress: string; message: string };

/**
 * Where a Deployment's rollout stands, judged as `kubectl rollout status` judges it: the
 * controller has seen the latest spec, every replica is updated and available and no old
 * one is left; a `Progressing` condition with reason `ProgressDeadlineExceeded` ends it.
 */
export function rolloutState(deployment: V1Deployment): RolloutState {
  const status = deployment.status ?? {};
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const observed = (deployment.metadata?.generation ?? 0) <= (status.observedGeneration ?? 0);
  const progress = observed
    ? `${updated}/${wanted} updated, ${available} available${total > updated ? `, ${total - updated} old pending termination` : ''}`
    : 'waiting for the controller to observe the new spec';
  if (!observed) return { phase: 'waiting', progress };
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { phase: 'deadline-exceeded', progress, message: progressing.message ?? '' };
  }
  if (updated < wanted || total > updated || available < updated) return { phase: 'waiting', progress };
  return { phase: 'complete', progress };
}

export interface RolloutWait {
  signal: AbortSignal;
  log: TaskLog;
  pollIntervalMs: number;
}

/** Polls the Deployment until its rollout is complete; streams each change of progress to the log. */
export async function waitForRollout(
  cluster: Cluster,
  name: string,
  wait: RolloutWait,
): Promise<V1Deployment> {
  const subject = `deployment "${name}" in namespace "${cluster.namespace}"`;
  let reported = '';
  for (;;) {
    const deployment = await cluster.find(`waiting for the rollout of ${subject}`, () =>
      cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace }),
    );
    if (!deployment) {
      throw new TaskFailure('DeploymentNotFound', `${subject} was deleted during its rollout`);
    }
    const state = rolloutState(deployment);
    if (state.progress !== reported) {
      wait.log.info(`${name}: ${state.progress}`);
      reported = state.progress;
    }
    if (state.phase === 'complete') return deployment;
    if (state.phase === 'deadline-exceeded') {
      const seconds = deployment.spec?.progressDeadlineSeconds ?? 600;
      throw new TaskFailure(
        'RolloutDeadlineExceeded',
        `${subject} exceeded its progress deadline (${seconds} s) at ${state.progress}${state.message ? `: ${state.message}` : ''}`,
      );
    }
    await sleep(wait.pollIntervalMs, wait.signal, `waiting for the rollout of ${subject}`);
  }
}

export const revisionOf = (deployment: V1Deployment): string | undefined =>
  deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
