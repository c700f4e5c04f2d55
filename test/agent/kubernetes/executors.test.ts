import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Executor, TaskFailure } from '../../../agent/executors/executor';
import { kubernetesExecutors } from '../../../agent/executors/kubernetes';
import {
  type ClusterUnderTest,
  createDeployment,
  createService,
  IMAGE_REPOSITORY,
  NEVER_READY_REPOSITORY,
  NEW_TAG,
  OLD_TAG,
  startClusterUnderTest,
  untilAvailable,
} from './support/cluster-under-test';
import { type TaskInput, taskContext } from './support/task-context';

/**
 * The Kubernetes executors against the test API server, or against a real cluster with
 * `npm run test:k8s` (K8S_TEST_KUBECONFIG): the same tests either way.
 */

// A real cluster pulls images and schedules pods: give it minutes, not seconds.
if (process.env.K8S_TEST_KUBECONFIG) vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

let cluster: ClusterUnderTest;
const executors = new Map<string, Executor>(
  kubernetesExecutors({ pollIntervalMs: 25 }).map((executor) => [executor.type, executor]),
);

function run(input: TaskInput) {
  const executor = executors.get(input.type);
  if (!executor) throw new Error(`no executor for ${input.type}`);
  const task = taskContext(cluster, input);
  return { task, result: executor.execute(task.context) };
}

async function failureOf(promise: Promise<unknown>): Promise<TaskFailure> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof TaskFailure)) throw new Error(`expected a TaskFailure, got ${String(outcome)}`);
  return outcome;
}

const readDeployment = (name: string) =>
  cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
const deploymentExists = (name: string) =>
  readDeployment(name).then(
    () => true,
    (error: { code?: number }) => (error.code === 404 ? false : Promise.reject(error)),
  );

beforeAll(async () => {
  cluster = await startClusterUnderTest();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('deploy (rolling update)', () => {
  it('sets the image, replicas and maxUnavailable and returns once the rollout is complete', async () => {
    await createDeployment(cluster, { name: 'web', image: `${IMAGE_REPOSITORY}:${OLD_TAG}` });
    await untilAvailable(cluster, 'web');

    const { task, result } = run({
      type: 'deploy',
      config: { strategy: 'rolling-update', replicas: 3, max_unavailable: 1, image: IMAGE_REPOSITORY },
      gitTag: NEW_TAG,
    });

    await expect(result).resolves.toEqual({
      deployment: 'web',
      namespace: cluster.namespace,
      image: `${IMAGE_REPOSITORY}:${NEW_TAG}`,
      replicas: 3,
      revision: '2',
    });
    const deployment = await readDeployment('web');
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(1);
    expect(deployment.spec?.template.spec?.containers.map((container) => container.image)).toEqual([
      `${IMAGE_REPOSITORY}:${NEW_TAG}`,
      `${IMAGE_REPOSITORY}:${OLD_TAG}`,
    ]);
    expect(deployment.status?.availableReplicas).toBe(3);
    expect(deployment.status?.updatedReplicas).toBe(3);
    expect(task.lines).toContain('web: 3/3 updated, 3 available');
    expect(task.lines.some((line) => /^web: [0-2]\/3 updated/.test(line))).toBe(true);
  });

  it('sets the container the config names', async () => {
    const { result } = run({
      type: 'deploy',
      config: { container: 'sidecar', image: IMAGE_REPOSITORY },
      gitTag: NEW_TAG,
    });

    await expect(result).resolves.toMatchObject({ deployment: 'web', revision: '3' });
    const deployment = await readDeployment('web');
    expect(deployment.spec?.template.spec?.containers.map((container) => container.image)).toEqual([
      `${IMAGE_REPOSITORY}:${NEW_TAG}`,
      `${IMAGE_REPOSITORY}:${NEW_TAG}`,
    ]);
  });

  it('fails with RolloutDeadlineExceeded, naming the Deployment, when the rollout exceeds its deadline', async () => {
    await createDeployment(cluster, {
      name: 'stuck',
      image: `${IMAGE_REPOSITORY}:${OLD_TAG}`,
      progressDeadlineSeconds: 3,
    });
    await untilAvailable(cluster, 'stuck');

    const { result } = run({
      type: 'deploy',
      config: { deployment: 'stuck', image: NEVER_READY_REPOSITORY },
      gitTag: 'v1',
    });

    const failure = await failureOf(result);
    expect(failure.error).toBe('RolloutDeadlineExceeded');
    expect(failure.cause).toContain(`deployment "stuck" in namespace "${cluster.namespace}"`);
    expect(failure.cause).toContain('progress deadline');
  });

  it('stops waiting for the rollout as soon as the task is aborted', async () => {
    await createDeployment(cluster, { name: 'slow', image: `${IMAGE_REPOSITORY}:${OLD_TAG}` });
    await untilAvailable(cluster, 'slow');

    // The new pods never become ready and the deadline is 600 s: only the abort can end it.
    const { result } = run({
      type: 'deploy',
      config: { deployment: 'slow', image: NEVER_READY_REPOSITORY },
      gitTag: 'v1',
      onLine: (line, task) => {
        if (line.startsWith('slow: ')) task.abort.abort();
      },
    });

    const failure = await failureOf(result);
    expect(failure.error).toBe('Aborted');
    expect(failure.cause).toContain('deployment "slow"');
  });

  it('fails naming a Deployment that does not exist', async () => {
    const { result } = run({ type: 'deploy', config: { deployment: 'absent' }, gitTag: NEW_TAG });

    const failure = await failureOf(result);
    expect(failure.error).toBe('DeploymentNotFound');
    expect(failure.cause).toBe(`deployment "absent" in namespace "${cluster.namespace}" does not exist`);
  });
});

describe('blue-green', () => {
  const steps = (deploymentId: string, gitTag: string) => ({
    deployGreen: () =>
      run({
        type: 'deploy_green',
        application: 'shop',
        config: { environment: 'green', replicas: 2, image: IMAGE_REPOSITORY },
        gitTag,
        deploymentId,
      }).result,
    switchTraffic: () =>
      run({
        type: 'switch_traffic',
        application: 'shop',
        config: { from: 'blue', to: 'green', endpoints_timeout: 30 },
        gitTag,
        deploymentId,
      }).result,
    cleanupBlue: () =>
      run({ type: 'cleanup_blue', application: 'shop', config: { delay: 0.2 }, gitTag, deploymentId }).result,
  });
  const selectorOf = async (service: string) =>
    (await cluster.core.readNamespacedService({ name: service, namespace: cluster.namespace })).spec
      ?.selector;

  it('rolls green out beside blue, switches the Service to it, then deletes blue after the delay', async () => {
    await createDeployment(cluster, { name: 'shop', image: `${IMAGE_REPOSITORY}:${OLD_TAG}`, replicas: 1 });
    await createService(cluster, 'shop', { app: 'shop' });
    await untilAvailable(cluster, 'shop');
    const first = steps('dep_first', NEW_TAG);

    const deployGreen = run({
      type: 'deploy_green',
      application: 'shop',
      config: { environment: 'green', replicas: 2, image: IMAGE_REPOSITORY },
      gitTag: NEW_TAG,
      deploymentId: 'dep_first',
    });
    await expect(deployGreen.result).resolves.toMatchObject({
      deployment: 'shop-green',
      slot: 'green',
      blue: 'shop',
      image: `${IMAGE_REPOSITORY}:${NEW_TAG}`,
      replicas: 2,
    });
    const green = await readDeployment('shop-green');
    expect(green.status?.availableReplicas).toBe(2);
    expect(green.spec?.template.metadata?.labels).toEqual({ app: 'shop', slot: 'green' });
    expect(green.spec?.template.spec?.containers[0]?.image).toBe(`${IMAGE_REPOSITORY}:${NEW_TAG}`);
    expect(await selectorOf('shop')).toEqual({ app: 'shop' });
    // blue's pods carry no slot label, so the Service's selector reaches green's pods already
    expect(
      deployGreen.task.lines.some((line) =>
        line.startsWith('warning: service "shop" selects {"app":"shop"}'),
      ),
    ).toBe(true);

    await expect(first.switchTraffic()).resolves.toMatchObject({
      service: 'shop',
      slot: 'green',
      deployment: 'shop-green',
      ready_endpoints: 2,
    });
    expect(await selectorOf('shop')).toEqual({ app: 'shop', slot: 'green' });
    expect(await deploymentExists('shop')).toBe(true);

    await expect(first.cleanupBlue()).resolves.toEqual({
      deleted: ['shop'],
      kept: 'shop-green',
      service: 'shop',
      namespace: cluster.namespace,
    });
    expect(await deploymentExists('shop')).toBe(false);
    expect(await deploymentExists('shop-green')).toBe(true);
  });

  it('alternates slots: the next deployment rolls out to blue and removes the green one after the delay', async () => {
    const second = steps('dep_second', OLD_TAG);

    await expect(second.deployGreen()).resolves.toMatchObject({
      deployment: 'shop-blue',
      slot: 'blue',
      blue: 'shop-green',
    });
    await expect(second.switchTraffic()).resolves.toMatchObject({ slot: 'blue', previous_slot: 'green' });
    expect(await selectorOf('shop')).toEqual({ app: 'shop', slot: 'blue' });

    const cancelled = run({
      type: 'cleanup_blue',
      application: 'shop',
      config: { delay: 600 },
      gitTag: OLD_TAG,
      deploymentId: 'dep_second',
      onLine: (line, task) => {
        if (line === 'removing blue in 600 s') task.abort.abort();
      },
    });
    expect((await failureOf(cancelled.result)).error).toBe('Aborted');
    expect(await deploymentExists('shop-green')).toBe(true);

    await expect(second.cleanupBlue()).resolves.toMatchObject({ deleted: ['shop-green'], kept: 'shop-blue' });
    expect(await deploymentExists('shop-green')).toBe(false);
  });

  it('does not switch to a green that is not fully available', async () => {
    const third = steps('dep_third', 'v1');
    const never = run({
      type: 'deploy_green',
      application: 'shop',
      config: { replicas: 1, image: NEVER_READY_REPOSITORY },
      gitTag: 'v1',
      deploymentId: 'dep_third',
      onLine: (line, task) => {
        if (line.startsWith('shop-green: 1/1 updated')) task.abort.abort();
      },
    });
    expect((await failureOf(never.result)).error).toBe('Aborted');

    const failure = await failureOf(third.switchTraffic());
    expect(failure.error).toBe('GreenNotAvailable');
    expect(failure.cause).toContain('"shop-green" is not fully available');
    expect(await selectorOf('shop')).toEqual({ app: 'shop', slot: 'blue' });
  });

  it('switches the Service back and fails when it has no ready endpoints on green after the switch', async () => {
    await createDeployment(cluster, { name: 'lonely', image: `${IMAGE_REPOSITORY}:${OLD_TAG}` });
    await createService(cluster, 'lonely', { app: 'lonely' });
    // A green whose pods lack the Service's `app` label: switching would leave no endpoints.
    await createDeployment(cluster, {
      name: 'lonely-green',
      image: `${IMAGE_REPOSITORY}:${NEW_TAG}`,
      labels: { role: 'canary', slot: 'green' },
      annotations: { 'deploy-manager.io/deployment-id': 'dep_lonely' },
    });
    await untilAvailable(cluster, 'lonely-green');

    const { result } = run({
      type: 'switch_traffic',
      application: 'lonely',
      config: { from: 'blue', to: 'green', endpoints_timeout: 1 },
      gitTag: NEW_TAG,
      deploymentId: 'dep_lonely',
    });

    const failure = await failureOf(result);
    expect(failure.error).toBe('TrafficSwitchRolledBack');
    expect(failure.cause).toContain('service "lonely" had no ready endpoints on "lonely-green"');
    expect(failure.cause).toContain('switched back');
    expect(await selectorOf('lonely')).toEqual({ app: 'lonely' });
  });

  it('keeps blue when the Service does not select green', async () => {
    const failure = await failureOf(
      run({
        type: 'cleanup_blue',
        application: 'lonely',
        config: { delay: 0 },
        gitTag: NEW_TAG,
        deploymentId: 'dep_lonely',
      }).result,
    );

    expect(failure.error).toBe('TrafficNotSwitched');
    expect(await deploymentExists('lonely')).toBe(true);
  });
});
