import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION } from '../../local/local-aws';
import { type KubeApiServer, startKubeApiServer } from '../agent/kubernetes/support/kube-api-server';
import { writeKubeconfig } from '../agent/kubernetes/support/kubeconfig';
import { startTestHosts, type TestHost, type TestHosts } from '../agent/physical/support/hosts';
import { type AgentProcess, startAgentProcess, writeConfig } from '../agent/support/agent-process';
import { gitRepository } from '../agent/support/git-repo';
import { type LocalRegistry, startRegistry } from '../agent/support/registry';
import { ApiClient, asObjects, asString, type JsonObject, type Reply } from './support/api';
import { BUSYBOX_BASE, busyboxBaseStorage } from './support/busybox-base';
import { type GitServer, serveRepository } from './support/git-daemon';
import { LocalRuntime } from './support/local-runtime';
import { waitUntil } from './support/processes';

/**
 * `npm start` (AGENT=off) and the real deploy agent with no credentials of its own: a
 * kubeconfig and an SSH key posted through the environments API reach the test Kubernetes
 * API server and a real sshd host through the agent, every fetch is recorded and readable by
 * admins, and no byte the test saw carries a secret value or its base64.
 */

const SLOW_MS = 240_000;
const KUBE_TOKEN = `e2e-stored-kube-token-${process.pid}`;

let work = '';
let buildahStorage = '';
let runtime: LocalRuntime | undefined;
let agent: AgentProcess | undefined;
let registry: LocalRegistry | undefined;
let hosts: TestHosts | undefined;
let git: GitServer | undefined;
let kube: KubeApiServer | undefined;
let health: Server | undefined;
let api: ApiClient;
let commit = '';
let kubeconfigText = '';
let privateKey = '';
/** every answer of the API the test got */
const replies: Reply[] = [];

function recording(client: ApiClient): ApiClient {
  const call = client.call.bind(client);
  client.call = async (...args) => {
    const reply = await call(...args);
    replies.push(reply);
    return reply;
  };
  return client;
}

/** What the banner of `npm start` with AGENT=off says an agent should connect to. */
function agentEndpoints(stdout: string) {
  const sqs = /^\s+SQS\s+(\S+) \(task queue (\S+)\)$/m.exec(stdout);
  const sfn = /^\s+SFN\s+(\S+)$/m.exec(stdout);
  const logs = /^\s+logs\s+(\S+) \(table ([^,]+), task logs under TASKLOG#\)$/m.exec(stdout);
  const secrets = /^\s+secrets\s+(\S+) \(Secrets Manager; stored credentials under (\S+)\)$/m.exec(stdout);
  if (!sqs?.[1] || !sqs[2] || !sfn?.[1] || !logs?.[1] || !logs[2] || !secrets?.[1] || !secrets[2]) {
    throw new Error(`the banner names no agent endpoints:\n${stdout}`);
  }
  return {
    sqs: sqs[1],
    queueUrl: sqs[2],
    stepFunctions: sfn[1],
    dynamoDb: logs[1],
    table: logs[2],
    secretsManager: secrets[1],
    secretPrefix: secrets[2],
  };
}

const firstHost = (): TestHost => {
  const host = hosts?.hosts[0];
  if (!host) throw new Error('no test host');
  return host;
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'e2e-agent-credentials-'));
  runtime = new LocalRuntime({ launcher: 'npm', env: { AGENT: 'off', PORT: '0', QUIET: '1' } });
  const { dir: storageDir, ...storage } = busyboxBaseStorage();
  buildahStorage = storageDir;
  const repository = gitRepository({
    Dockerfile: `FROM ${BUSYBOX_BASE}\nCOPY test.sh /app/test.sh\nRUN ["/bin/busybox", "sh", "/app/test.sh"]\n`,
    'test.sh': '#!/bin/sh\necho "tests: all passed"\necho "coverage: 90.0%"\n',
  });
  commit = repository.commit;
  health = createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => health?.listen(0, '127.0.0.1', resolve));
  [registry, hosts, git, kube] = await Promise.all([
    startRegistry(),
    startTestHosts(1),
    serveRepository(repository.dir),
    startKubeApiServer({ users: { [KUBE_TOKEN]: { name: 'stored' } } }),
  ]);
  kubeconfigText = await readFile(await writeKubeconfig(join(work, 'kubeconfig'), kube, KUBE_TOKEN), 'utf8');
  privateKey = readFileSync(hosts.privateKeyPath, 'utf8');
  // The Deployment the kubernetes environment's deploy step updates.
  const admin = new KubeConfig();
  admin.loadFromString(kubeconfigText);
  await admin.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.9' }] },
        },
      },
    },
  });

  const ready = await runtime.ready();
  api = recording(new ApiClient(ready.apiUrl, ready.adminToken));
  const endpoints = agentEndpoints(runtime.stdout);
  const baseUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
  const agentConfig = {
    log_level: 'debug',
    agent_id: 'e2e-agent',
    queue: { url: endpoints.queueUrl, region: LOCAL_REGION, endpoint: endpoints.sqs, wait_seconds: 1 },
    step_functions: { endpoint: endpoints.stepFunctions },
    concurrency: 2,
    work_dir: join(work, 'agent'),
    task_logs: { table: endpoints.table, endpoint: endpoints.dynamoDb },
    stored_credentials: { endpoint: endpoints.secretsManager, secret_prefix: endpoints.secretPrefix },
    shutdown_grace_seconds: 5,
    buildah: { storage_driver: 'vfs', isolation: 'chroot', ...storage },
    // Registries and health-check URLs only: no kubeconfig_path, no private_key_path.
    targets: ['kube-e2e', 'hosts-e2e'].map((environment) => ({
      environment,
      base_url: baseUrl,
      registry: { host: registry?.host, namespace: 'e2e', insecure: true },
    })),
  };
  agent = startAgentProcess(writeConfig(work, agentConfig));
  await agent.waitForLog((line) => line.message === 'agent started');
}, SLOW_MS);

afterAll(async () => {
  if (agent && agent.child.exitCode === null) {
    agent.child.kill('SIGTERM');
    await agent.exited();
  }
  await runtime?.destroy();
  await new Promise((resolve) => (health ? health.close(resolve) : resolve(undefined)));
  await Promise.all([registry?.stop(), git?.stop(), hosts?.cleanup(), kube?.stop()]);
  for (const dir of [work, buildahStorage]) if (dir !== '') await rm(dir, { recursive: true, force: true });
}, SLOW_MS);

async function deployTo(environment: JsonObject, application: string, gitTag: string) {
  const app = await api.expect(201, 'POST', '/applications', {
    body: {
      name: application,
      repository: git?.url,
      type: 'microservice',
      config: { test_command: 'sh test.sh' },
    },
  });
  const version = await api.expect(201, 'POST', '/versions', {
    body: { git_tag: gitTag, git_commit: commit, repository: git?.url, description: `e2e ${gitTag}` },
  });
  const created = await api.expect(201, 'POST', '/deployments', {
    body: {
      version_id: version.id,
      application_ids: [app.id],
      environment_id: environment.id,
      strategy: 'standard',
    },
  });
  const deploymentId = asString(created.id);
  const deployment = await api.waitForDeployment(deploymentId, SLOW_MS - 60_000, 500);
  expect({ status: deployment.status, error_message: deployment.error_message }).toEqual({
    status: 'success',
    error_message: '',
  });
  const tasks = await api.tasksOf(deploymentId);
  const deploy = tasks.find((task) => task.type === 'deploy');
  if (!deploy) throw new Error(`no deploy task in ${JSON.stringify(tasks)}`);
  return { deploymentId, tasks, deployTaskId: asString(deploy.id) };
}

/** Every line of a task's log, through the API, until it is complete. */
async function fullLog(taskId: string): Promise<string> {
  const texts: string[] = [];
  let cursor = '';
  await waitUntil(
    `the log of ${taskId} to be complete`,
    async () => {
      const query = cursor === '' ? '' : `?cursor=${encodeURIComponent(cursor)}`;
      const answer = await api.expect(200, 'GET', `/tasks/${taskId}/logs${query}`);
      for (const line of asObjects(answer.lines)) texts.push(asString(line.text));
      cursor = asString(answer.next_cursor);
      return answer.complete === true;
    },
    60_000,
    200,
  );
  return texts.join('\n');
}

const accessRecords = async (environmentId: string) =>
  JSON.stringify(await api.expect(200, 'GET', `/environments/${environmentId}/credential-access`));

describe('the agent with credentials posted through the API', { timeout: SLOW_MS }, () => {
  const taskLogs: string[] = [];
  const results: string[] = [];

  it('deploys to the Kubernetes API server with the posted kubeconfig, and records the fetch', async () => {
    const environment = await api.expect(201, 'POST', '/environments', {
      body: {
        name: 'kube-e2e',
        type: 'kubernetes',
        config: {
          kubeconfig: Buffer.from(kubeconfigText).toString('base64'),
          namespace: 'default',
        },
      },
    });
    const from = kube?.requests.length ?? 0;
    const { tasks, deployTaskId, deploymentId } = await deployTo(environment, 'web', 'v1.0.0');

    expect(new Set(kube?.requests.slice(from).map((request) => request.token))).toEqual(
      new Set([KUBE_TOKEN]),
    );
    const records = await accessRecords(asString(environment.id));
    expect(records).toContain(deployTaskId);
    expect(records).toContain(deploymentId);
    expect(records).toContain('e2e-agent');
    expect(records).toContain('kubernetes');
    const log = await fullLog(deployTaskId);
    expect(log).toContain('using the stored credentials of environment kube-e2e');
    for (const task of tasks) {
      taskLogs.push(await fullLog(asString(task.id)));
      results.push(JSON.stringify(task.result ?? null));
    }
  });

  it('deploys to the real sshd host with the posted SSH key, and records the fetch', async () => {
    const host = firstHost();
    const environment = await api.expect(201, 'POST', '/environments', {
      body: {
        name: 'hosts-e2e',
        type: 'physical',
        config: {
          ssh_private_key: Buffer.from(privateKey).toString('base64'),
          ssh_user: hosts?.user ?? '',
          ssh_known_hosts: host.knownHostsLine,
          hosts: host.name,
          release_root: `${hosts?.mountPoint}/shop`,
          fetch_command: 'printf %s {git_tag} > {release_dir}/VERSION && echo fetched {git_tag}',
          restart_command: 'true',
        },
      },
    });
    const { tasks, deployTaskId } = await deployTo(environment, 'shop', 'v2.0.0');

    expect(readFileSync(join(host.files, 'shop', 'releases', 'v2.0.0', 'VERSION'), 'utf8')).toBe('v2.0.0');
    const records = await accessRecords(asString(environment.id));
    expect(records).toContain(deployTaskId);
    expect(records).toContain('ssh_private_key');
    for (const task of tasks) {
      taskLogs.push(await fullLog(asString(task.id)));
      results.push(JSON.stringify(task.result ?? null));
    }
  });

  it('leaves no secret value, nor its base64, in any byte the test produced', () => {
    const received = agent?.logs.filter((line) => line.message === 'message received') ?? [];
    // Both deployments' four tasks: their messages, logs and results are all searched.
    expect(received.length).toBeGreaterThanOrEqual(8);
    expect(taskLogs).toHaveLength(8);
    expect(taskLogs.join('\n')).toContain('using the stored credentials of environment hosts-e2e');
    const haystack = [
      ...replies.map((reply) => reply.text),
      runtime?.stdout ?? '',
      runtime?.stderr ?? '',
      agent?.stdout() ?? '',
      agent?.stderr() ?? '',
      ...taskLogs,
      ...results,
      ...received.map((line) => String(line.body)),
    ].join('\n');
    const needles = [kubeconfigText, privateKey].flatMap((value) => [
      value,
      Buffer.from(value).toString('base64'),
      ...value
        .split('\n')
        .map((line) => line.trim())
        .filter(
          (line) =>
            line.length >= 16 &&
            !/^-----|^apiVersion|^kind|^current-context|^- name|^server:|^namespace:/.test(line),
        ),
    ]);
    for (const needle of [...needles, KUBE_TOKEN])
      expect(haystack.includes(needle), needle.slice(0, 40)).toBe(false);
  });
});
