import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskFailure } from '../../../agent/executors/executor';
import { kubernetesExecutors } from '../../../agent/executors/kubernetes';
import { IMAGE_REPOSITORY, OLD_TAG } from './support/cluster-under-test';
import { type KubeApiServer, startKubeApiServer } from './support/kube-api-server';
import { writeKubeconfig } from './support/kubeconfig';
import { taskContext } from './support/task-context';

/**
 * How the executors report a cluster they cannot use: clear failures naming the server, the
 * user, the namespace or the object, never a stack trace or a credential. These need the
 * test API server (its users and namespaces), so they do not run against a real cluster.
 */

let server: KubeApiServer;
let directory: string;
const [deploy] = kubernetesExecutors({ pollIntervalMs: 25 });

async function failureOf(promise: Promise<unknown> | undefined): Promise<TaskFailure> {
  const outcome = await promise?.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof TaskFailure)) throw new Error(`expected a TaskFailure, got ${String(outcome)}`);
  return outcome;
}

function deployTask(kubeconfigPath: string, namespace: string, config: Record<string, string> = {}) {
  return taskContext(
    { kubeconfigPath, namespace, context: undefined },
    { type: 'deploy', config, gitTag: 'v2' },
  );
}

function deployWith(kubeconfigPath: string, namespace: string, config: Record<string, string> = {}) {
  const task = deployTask(kubeconfigPath, namespace, config);
  return { task, result: deploy?.execute(task.context) };
}

beforeAll(async () => {
  server = await startKubeApiServer({
    users: {
      'admin-token': { name: 'admin' },
      'team-token': { name: 'team-a-deployer', namespaces: ['team-a'] },
    },
  });
  directory = await mkdtemp(join(tmpdir(), 'k8s-errors-'));
  const admin = await writeKubeconfig(join(directory, 'admin'), server, 'admin-token');
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(admin);
  await config.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'team-a' } } });
  await config.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: 'team-a',
    body: {
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: `${IMAGE_REPOSITORY}:${OLD_TAG}` }] },
        },
      },
    },
  });
});

afterAll(async () => {
  await server?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('API errors as task failures', () => {
  it('names the kubeconfig user and the server when the credentials are refused (401)', async () => {
    const kubeconfig = await writeKubeconfig(join(directory, 'wrong'), server, 'not-a-token');

    const failure = await failureOf(deployWith(kubeconfig, 'team-a').result);

    expect(failure.error).toBe('KubernetesUnauthorized');
    expect(failure.cause).toContain(
      `the API server ${server.url} did not accept the credentials of kubeconfig user "tester"`,
    );
    expect(failure.cause).not.toContain('not-a-token');
  });

  it('names the user and the namespace when the user may not use it (403)', async () => {
    const kubeconfig = await writeKubeconfig(join(directory, 'team'), server, 'team-token');

    const failure = await failureOf(deployWith(kubeconfig, 'team-b').result);

    expect(failure.error).toBe('KubernetesForbidden');
    expect(failure.cause).toContain(
      'kubeconfig user "tester" is not allowed to do this in namespace "team-b"',
    );
    expect(failure.cause).toContain('User "team-a-deployer" cannot get resource "deployments"');
  });

  it('names the server URL when nothing listens there', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const url = `https://127.0.0.1:${port}`;
    const kubeconfig = await writeKubeconfig(
      join(directory, 'closed'),
      { url, certificate: server.certificate },
      'admin-token',
    );

    const failure = await failureOf(deployWith(kubeconfig, 'team-a').result);

    expect(failure.error).toBe('KubernetesUnreachable');
    expect(failure.cause).toContain(`cannot reach the Kubernetes API server at ${url} (connection refused)`);
    expect(failure.cause).not.toMatch(/\n\s+at /);
  });

  it('names a container the Deployment does not have', async () => {
    const kubeconfig = await writeKubeconfig(join(directory, 'admin2'), server, 'admin-token');

    const failure = await failureOf(deployWith(kubeconfig, 'team-a', { container: 'worker' }).result);

    expect(failure.error).toBe('ContainerNotFound');
    expect(failure.cause).toBe('deployment "web" has no container "worker" (it has "app")');
  });

  it('names a kubeconfig context that does not exist', async () => {
    const kubeconfig = await writeKubeconfig(join(directory, 'admin3'), server, 'admin-token');
    const task = deployTask(kubeconfig, 'team-a');
    const context = {
      ...task.context,
      target: { ...task.context.target, kubernetes: { kubeconfig_path: kubeconfig, context: 'production' } },
    };

    const failure = await failureOf(deploy?.execute(context));

    expect(failure.error).toBe('KubeconfigInvalid');
    expect(failure.cause).toBe(`the kubeconfig ${kubeconfig} has no context "production"`);
  });

  it('refuses a step config it cannot use', async () => {
    const kubeconfig = await writeKubeconfig(join(directory, 'admin4'), server, 'admin-token');

    const failure = await failureOf(deployWith(kubeconfig, 'team-a', { strategy: 'canary' }).result);

    expect(failure.error).toBe('InvalidStepConfig');
    expect(failure.cause).toContain('strategy');
  });
});
