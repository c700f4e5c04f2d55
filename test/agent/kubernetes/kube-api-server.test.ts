import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from './support/kube-api-server';
import { writeKubeconfig } from './support/kubeconfig';

/**
 * The test API server is only worth what it proves: the real kubectl (1.32, /usr/bin/kubectl)
 * discovers it, applies, patches, watches rollouts and reads Services and Endpoints from it.
 */

let server: KubeApiServer;
let directory: string;
let kubeconfig: string;

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(directory, 'cache'), ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function kubectlOk(...args: string[]): Promise<string> {
  const result = await kubectl(...args);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  labels: {app: x}
spec:
  replicas: 3
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
      - name: app
        image: img:v1
---
apiVersion: v1
kind: Service
metadata:
  name: x
spec:
  selector: {app: x}
  ports:
  - port: 80
    targetPort: 8080
`;

beforeAll(async () => {
  server = await startKubeApiServer({ users: { 'kubectl-token': { name: 'tester' } } });
  directory = await mkdtemp(join(tmpdir(), 'kube-api-server-'));
  kubeconfig = await writeKubeconfig(join(directory, 'kubeconfig'), server, 'kubectl-token');
  await writeFile(join(directory, 'x.yaml'), MANIFEST);
});

afterAll(async () => {
  await server?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('the test API server, driven by the real kubectl', () => {
  it('applies a Deployment and a Service server-side', async () => {
    const output = await kubectlOk('apply', '--server-side', '-f', join(directory, 'x.yaml'));

    expect(output).toContain('deployment.apps/x serverside-applied');
    expect(output).toContain('service/x serverside-applied');
    const applied = server.requests.filter((request) => request.method === 'PATCH');
    expect(applied.map((request) => request.contentType)).toEqual([
      'application/apply-patch+yaml',
      'application/apply-patch+yaml',
    ]);
  });

  it('waits with rollout status until the simulated rollout completes', async () => {
    const output = await kubectlOk('rollout', 'status', 'deployment/x', '--timeout=30s');

    expect(output).toContain('deployment "x" successfully rolled out');
  });

  it('sets an image, and rollout status follows the new rollout to its end', async () => {
    expect(await kubectlOk('set', 'image', 'deployment/x', 'app=img:v2')).toContain(
      'deployment.apps/x image updated',
    );
    expect(await kubectlOk('rollout', 'status', 'deployment/x', '--timeout=30s')).toContain(
      'successfully rolled out',
    );

    const list = JSON.parse(await kubectlOk('get', 'deployments', '-o', 'json'));
    expect(list.items).toHaveLength(1);
    const [deployment] = list.items;
    expect(deployment.metadata.name).toBe('x');
    expect(deployment.metadata.generation).toBe(2);
    expect(deployment.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(deployment.spec.template.spec.containers[0].image).toBe('img:v2');
    expect(deployment.status).toMatchObject({
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });
  });

  it('reads the Service and its Endpoints, which list the ready pods', async () => {
    expect(await kubectlOk('get', 'svc', 'x', '-o', 'jsonpath={.spec.selector.app}')).toBe('x');
    const addresses = await kubectlOk(
      'get',
      'endpoints',
      'x',
      '-o',
      'jsonpath={.subsets[0].addresses[*].ip}',
    );
    expect(addresses.split(' ')).toHaveLength(3);
  });

  it('applies JSON merge, JSON and strategic merge patches', async () => {
    await kubectlOk('patch', 'deployment', 'x', '--type=merge', '-p', '{"spec":{"replicas":2}}');
    await kubectlOk(
      'patch',
      'deployment',
      'x',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"img:v3"}]',
    );
    await kubectlOk(
      'patch',
      'deployment',
      'x',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"proxy:1"}]}}}}',
    );

    const spec = await kubectlOk(
      'get',
      'deployment',
      'x',
      '-o',
      'jsonpath={.spec.replicas} {.spec.template.spec.containers[*].image}',
    );
    expect(spec).toBe('2 img:v3 proxy:1');
  });

  it('fails rollout status for a rollout that exceeds its progress deadline', async () => {
    await kubectlOk(
      'patch',
      'deployment',
      'x',
      '--type=merge',
      '-p',
      '{"spec":{"progressDeadlineSeconds":1}}',
    );
    await kubectlOk('set', 'image', 'deployment/x', 'app=registry.invalid/img:v4');

    const result = await kubectl('rollout', 'status', 'deployment/x', '--timeout=30s');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('deployment "x" exceeded its progress deadline');
  });

  it('refuses an invalid Deployment, as the API server validates it', async () => {
    const result = await kubectl(
      'patch',
      'deployment',
      'x',
      '--type=merge',
      '-p',
      '{"spec":{"selector":{"matchLabels":{"app":"y"}}}}',
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'The Deployment "x" is invalid: spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`',
    );
  });

  it('deletes a Deployment', async () => {
    expect(await kubectlOk('delete', 'deployment', 'x')).toContain('deployment.apps "x" deleted');

    const result = await kubectl('get', 'deployment', 'x');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('deployments.apps "x" not found');
  });

  it('answers a wrong token with 401, as kubectl reports it', async () => {
    const other = await writeKubeconfig(join(directory, 'wrong-kubeconfig'), server, 'wrong-token');
    const result = await new Promise<KubectlResult>((resolve) => {
      execFile(
        'kubectl',
        ['--kubeconfig', other, '--cache-dir', join(directory, 'cache2'), 'get', 'deployments'],
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      );
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unauthorized|must be logged in/);
  });
});
