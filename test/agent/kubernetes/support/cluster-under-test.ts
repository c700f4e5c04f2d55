import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type KubeApiServer, startKubeApiServer } from './kube-api-server';
import { writeKubeconfig } from './kubeconfig';

/**
 * The cluster the executor tests run against: the in-memory test API server, or, with
 * `K8S_TEST_KUBECONFIG` (what `npm run test:k8s` sets from `KUBECONFIG`), a real cluster, in a
 * throwaway namespace that is deleted afterwards (docs/kubernetes.md).
 */
export interface ClusterUnderTest {
  readonly kubeconfigPath: string;
  readonly context: string | undefined;
  readonly namespace: string;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  /** the test server, when the tests do not run against a real cluster */
  readonly server: KubeApiServer | undefined;
  stop(): Promise<void>;
}

/** pause images: they run anywhere, and a real cluster can pull them */
export const IMAGE_REPOSITORY = 'registry.k8s.io/pause';
export const OLD_TAG = '3.9';
export const NEW_TAG = '3.10';
/** an image no cluster can pull: its pods never become ready */
export const NEVER_READY_REPOSITORY = 'deploy-manager.invalid/never-ready';

export async function startClusterUnderTest(): Promise<ClusterUnderTest> {
  const directory = await mkdtemp(join(tmpdir(), 'k8s-executors-'));
  const realKubeconfig = process.env.K8S_TEST_KUBECONFIG;
  const context = process.env.K8S_TEST_CONTEXT || undefined;
  let server: KubeApiServer | undefined;
  let kubeconfigPath: string;
  if (realKubeconfig) {
    kubeconfigPath = realKubeconfig;
  } else {
    server = await startKubeApiServer({ users: { 'test-token': { name: 'tester' } } });
    kubeconfigPath = await writeKubeconfig(join(directory, 'kubeconfig'), server, 'test-token');
  }
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  if (context) config.setCurrentContext(context);
  const apps = config.makeApiClient(AppsV1Api);
  const core = config.makeApiClient(CoreV1Api);
  const namespace = `deploy-manager-test-${Date.now().toString(36)}`;
  await core.createNamespace({
    body: {
      metadata: { name: namespace, labels: { 'app.kubernetes.io/created-by': 'deploy-manager-tests' } },
    },
  });
  return {
    kubeconfigPath,
    context,
    namespace,
    apps,
    core,
    server,
    async stop() {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await server?.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface TestDeployment {
  name: string;
  image: string;
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  progressDeadlineSeconds?: number;
}

export async function createDeployment(cluster: ClusterUnderTest, deployment: TestDeployment): Promise<void> {
  const labels = deployment.labels ?? { app: deployment.name };
  await cluster.apps.createNamespacedDeployment({
    namespace: cluster.namespace,
    body: {
      metadata: { name: deployment.name, labels, annotations: deployment.annotations ?? {} },
      spec: {
        replicas: deployment.replicas ?? 1,
        selector: { matchLabels: labels },
        progressDeadlineSeconds: deployment.progressDeadlineSeconds ?? 600,
        template: {
          metadata: { labels },
          spec: {
            containers: [
              { name: 'app', image: deployment.image },
              { name: 'sidecar', image: `${IMAGE_REPOSITORY}:${OLD_TAG}` },
            ],
          },
        },
      },
    },
  });
}

export async function createService(
  cluster: ClusterUnderTest,
  name: string,
  selector: Record<string, string>,
): Promise<void> {
  await cluster.core.createNamespacedService({
    namespace: cluster.namespace,
    body: { metadata: { name }, spec: { selector, ports: [{ port: 80, targetPort: 8080 }] } },
  });
}

/** Waits until the Deployment is fully rolled out (for fixtures). */
export async function untilAvailable(cluster: ClusterUnderTest, name: string): Promise<void> {
  for (;;) {
    const deployment = await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
    const status = deployment.status;
    const wanted = deployment.spec?.replicas ?? 1;
    if (
      (deployment.metadata?.generation ?? 0) <= (status?.observedGeneration ?? 0) &&
      status?.updatedReplicas === wanted &&
      status?.availableReplicas === wanted &&
      (status?.replicas ?? 0) === wanted
    ) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
