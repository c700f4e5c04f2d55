import {
  AppsV1Api,
  CoreV1Api,
  createConfiguration,
  DiscoveryV1Api,
  KubeConfig,
  type Middleware,
  PatchStrategy,
  type RequestContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { kubernetesCredentials } from '../../credentials/target-credentials';
import { type TaskContext, TaskFailure } from '../executor';
import { clusterFailure } from './errors';

/** Where a task talks to: enough to name it in a failure, never a credential. */
export interface ClusterAddress {
  server: string;
  user: string;
  namespace: string;
}

export interface Cluster extends ClusterAddress {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly discovery: DiscoveryV1Api;
  /** the same APIs, sending their patches with the given content type */
  patching(strategy: PatchStrategy): { apps: AppsV1Api; core: CoreV1Api };
  /** runs one API call; any failure becomes a TaskFailure naming what was being done */
  call<T>(doing: string, request: () => Promise<T>): Promise<T>;
  /** as `call`, but a 404 is `undefined` */
  find<T>(doing: string, request: () => Promise<T>): Promise<T | undefined>;
}

const middleware = (pre: (context: RequestContext) => void): Middleware => ({
  pre: async (context) => {
    pre(context);
    return context;
  },
  post: async (context) => context,
});

/**
 * Connects to the target's cluster: the kubeconfig is the agent's own (read as a secret, so
 * the log masks it) or the environment's stored one, loaded from memory; its `context` (or
 * current context) chosen, and every request carries the task's signal. The namespace is
 * the target's, then the environment config's, then the context's.
 */
export async function connectToCluster(context: TaskContext): Promise<Cluster> {
  const target = await kubernetesCredentials(context);
  const { kubeconfig } = target;
  const config = new KubeConfig();
  try {
    config.loadFromString(kubeconfig);
  } catch {
    throw new TaskFailure('KubeconfigInvalid', `${target.source} is not a valid kubeconfig`);
  }
  if (target.context) {
    if (!config.getContextObject(target.context)) {
      throw new TaskFailure('KubeconfigInvalid', `${target.source} has no context "${target.context}"`);
    }
    config.setCurrentContext(target.context);
  }
  const current = config.getContextObject(config.getCurrentContext());
  const cluster = config.getCurrentCluster();
  if (!current || !cluster) {
    throw new TaskFailure(
      'KubeconfigInvalid',
      `${target.source} names no usable context (set kubernetes.context in the agent's target)`,
    );
  }
  const configured = context.payload.config.namespace;
  const namespace =
    target.namespace ??
    (typeof configured === 'string' && configured ? configured : undefined) ??
    current.namespace ??
    'default';
  const address: ClusterAddress = { server: cluster.server, user: current.user, namespace };
  const withSignal = middleware((request) => request.setSignal(context.signal));
  const configuration = (extra: Middleware[]) =>
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: config },
      promiseMiddleware: [withSignal, ...extra],
    });
  const plain = configuration([]);
  const call = async <T>(doing: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw clusterFailure(error, address, doing, context.signal);
    }
  };
  context.log.info(
    `cluster ${cluster.server} (context "${current.name}", user "${current.user}"), namespace "${namespace}"`,
  );
  return {
    ...address,
    apps: new AppsV1Api(plain),
    core: new CoreV1Api(plain),
    discovery: new DiscoveryV1Api(plain),
    patching(strategy) {
      const patching = configuration([
        middleware((request) => request.setHeaderParam('Content-Type', strategy)),
      ]);
      return { apps: new AppsV1Api(patching), core: new CoreV1Api(patching) };
    },
    call,
    async find(doing, request) {
      try {
        return await request();
      } catch (error) {
        if (statusCodeOf(error) === 404) return undefined;
        throw clusterFailure(error, address, doing, context.signal);
      }
    },
  };
}

export const statusCodeOf = (error: unknown): number | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number'
    ? error.code
    : undefined;

export { PatchStrategy };
