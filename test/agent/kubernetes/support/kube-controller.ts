import { isObject, type JsonObject, type JsonValue } from './kube-patch';

/**
 * What the Deployment controller, the ReplicaSet controller and the kubelets would do, one
 * step per tick: observe a new generation, create a new pod, make one ready, remove an old
 * one. Pods whose image comes from a `.invalid` registry host never become ready (as an
 * image that cannot be pulled), so their rollout stalls and, once it has made no progress
 * for `progressDeadlineSeconds`, gets the `ProgressDeadlineExceeded` condition.
 */

export interface SimulatedPod {
  name: string;
  /** the pod-template-hash of the template it was made from */
  hash: string;
  ready: boolean;
  ip: string;
  labels: Record<string, string>;
}

export interface DeploymentState {
  pods: SimulatedPod[];
  templateHash: string;
  revision: number;
  podSequence: number;
}

const field = (value: JsonValue | undefined, key: string): JsonValue | undefined =>
  isObject(value) ? value[key] : undefined;

export const stringMap = (value: JsonValue | undefined): Record<string, string> =>
  isObject(value)
    ? Object.fromEntries(
        Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      )
    : {};

export function templateHash(template: JsonValue | undefined): string {
  let hash = 2166136261;
  for (const char of JSON.stringify(template ?? null)) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash.toString(36).padStart(7, '0').slice(0, 10);
}

const imagesOf = (template: JsonValue | undefined): string[] => {
  const containers = field(field(template, 'spec'), 'containers');
  return Array.isArray(containers)
    ? containers.map((container) => field(container, 'image')).filter((image) => typeof image === 'string')
    : [];
};

/** An image on a `.invalid` registry host cannot be pulled: its pods never become ready. */
export const pullable = (image: string): boolean => {
  const host = image.split('/')[0] ?? '';
  return !(image.includes('/') && host.endsWith('.invalid'));
};

function intOrPercent(value: JsonValue | undefined, of: number, fallback: number): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%'))
    return Math.floor((of * Number(value.slice(0, -1))) / 100);
  return fallback;
}

const condition = (
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): JsonObject => ({
  type,
  status,
  reason,
  message,
  lastUpdateTime: now,
  lastTransitionTime: now,
});

let podIps = 0;
const nextIp = (): string => {
  podIps += 1;
  return `10.244.${Math.floor(podIps / 250)}.${(podIps % 250) + 2}`;
};

export const newDeploymentState = (): DeploymentState => ({
  pods: [],
  templateHash: '',
  revision: 0,
  podSequence: 0,
});

/**
 * Advances one Deployment by one step. Returns the object's new status (and annotations)
 * when anything changed, else undefined.
 */
export function reconcileDeployment(
  deployment: JsonObject,
  state: DeploymentState,
  nowMs: number,
): JsonObject | undefined {
  const now = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
  const metadata = isObject(deployment.metadata) ? deployment.metadata : {};
  const spec = isObject(deployment.spec) ? deployment.spec : {};
  const status: JsonObject = isObject(deployment.status) ? structuredClone(deployment.status) : {};
  const name = String(metadata.name);
  const generation = typeof metadata.generation === 'number' ? metadata.generation : 1;
  const observed = typeof status.observedGeneration === 'number' ? status.observedGeneration : 0;
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const template = spec.template;
  const hash = templateHash(template);
  const labels = stringMap(field(field(template, 'metadata'), 'labels'));
  const maxUnavailable = intOrPercent(
    field(field(spec.strategy, 'rollingUpdate'), 'maxUnavailable'),
    replicas,
    Math.floor(replicas / 4),
  );
  const deadlineSeconds =
    typeof spec.progressDeadlineSeconds === 'number' ? spec.progressDeadlineSeconds : 600;
  const conditions: JsonObject[] = Array.isArray(status.conditions)
    ? status.conditions.filter(isObject).map((item) => structuredClone(item))
    : [];
  const progressing = conditions.find((item) => item.type === 'Progressing');
  let annotations: Record<string, string> | undefined;

  let progressed = false;
  if (generation > observed) {
    status.observedGeneration = generation;
    if (hash !== state.templateHash) {
      state.templateHash = hash;
      state.revision += 1;
      annotations = {
        ...stringMap(metadata.annotations),
        'deployment.kubernetes.io/revision': String(state.revision),
      };
    }
    progressed = true;
  } else {
    const current = state.pods.filter((pod) => pod.hash === hash);
    const old = state.pods.filter((pod) => pod.hash !== hash);
    const available = state.pods.filter((pod) => pod.ready).length;
    const unready = current.find((pod) => !pod.ready);
    if (current.length > replicas) {
      const surplus = unready ?? current[current.length - 1];
      state.pods = state.pods.filter((pod) => pod !== surplus);
      progressed = true;
    } else if (current.length < replicas) {
      state.podSequence += 1;
      state.pods.push({
        name: `${name}-${hash}-${state.podSequence.toString(36).padStart(5, '0')}`,
        hash,
        ready: false,
        ip: nextIp(),
        labels: { ...labels, 'pod-template-hash': hash },
      });
      progressed = true;
    } else if (unready && imagesOf(template).every(pullable)) {
      unready.ready = true;
      progressed = true;
    } else if (old.length > 0) {
      const oldPod = old.find((pod) => !pod.ready) ?? old[0];
      const keepsEnough = !oldPod?.ready || available - 1 >= replicas - maxUnavailable;
      if (oldPod && keepsEnough) {
        state.pods = state.pods.filter((pod) => pod !== oldPod);
        progressed = true;
      }
    }
  }

  const current = state.pods.filter((pod) => pod.hash === hash);
  const availableCount = state.pods.filter((pod) => pod.ready).length;
  status.replicas = state.pods.length;
  status.updatedReplicas = current.length;
  status.readyReplicas = availableCount;
  status.availableReplicas = availableCount;
  status.unavailableReplicas = Math.max(0, Math.max(replicas, state.pods.length) - availableCount);
  for (const key of [
    'readyReplicas',
    'availableReplicas',
    'unavailableReplicas',
    'updatedReplicas',
    'replicas',
  ]) {
    if (status[key] === 0) delete status[key];
  }
  const complete =
    current.length === replicas && state.pods.length === replicas && current.every((pod) => pod.ready);
  const replicaSet = `${name}-${hash}`;
  const next: JsonObject[] = [];
  const availableEnough = availableCount >= replicas - maxUnavailable;
  const previousAvailable = conditions.find((item) => item.type === 'Available');
  next.push(
    previousAvailable && (previousAvailable.status === 'True') === availableEnough
      ? previousAvailable
      : availableEnough
        ? condition(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            now,
          )
        : condition(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            now,
          ),
  );
  if (progressed) {
    next.push(
      complete
        ? condition(
            'Progressing',
            'True',
            'NewReplicaSetAvailable',
            `ReplicaSet "${replicaSet}" has successfully progressed.`,
            now,
          )
        : condition(
            'Progressing',
            'True',
            'ReplicaSetUpdated',
            `ReplicaSet "${replicaSet}" is progressing.`,
            now,
          ),
    );
  } else if (
    progressing &&
    !complete &&
    progressing.reason !== 'ProgressDeadlineExceeded' &&
    nowMs - Date.parse(String(progressing.lastUpdateTime)) > deadlineSeconds * 1000
  ) {
    next.push(
      condition(
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${replicaSet}" has timed out progressing.`,
        now,
      ),
    );
  } else if (progressing) {
    next.push(progressing);
  }
  status.conditions = next;
  const changed =
    annotations !== undefined || JSON.stringify(status) !== JSON.stringify(deployment.status ?? {});
  if (!changed) return undefined;
  return annotations ? { status, annotations } : { status };
}
