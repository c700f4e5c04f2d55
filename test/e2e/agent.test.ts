import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../agent/executors/physical/shell';
import { LOCAL_REGION } from '../../local/local-aws';
import { startTestHosts, type TestHost, type TestHosts } from '../agent/physical/support/hosts';
import { type AgentProcess, startAgentProcess, writeConfig } from '../agent/support/agent-process';
import { gitRepository } from '../agent/support/git-repo';
import { type LocalRegistry, startRegistry } from '../agent/support/registry';
import { ApiClient, asObject, asObjects, asString, type JsonObject } from './support/api';
import { BUSYBOX_BASE, busyboxBaseStorage } from './support/busybox-base';
import { type GitServer, serveRepository } from './support/git-daemon';
import { LocalRuntime } from './support/local-runtime';
import { allProcesses, isRunning, waitUntil } from './support/processes';

/**
 * `npm start` with AGENT=off and the real deploy agent (agent/bin.ts) on its queue: a real
 * git repository (served by git daemon), buildah building and pushing to a real registry,
 * the physical executors rolling out over SSH to two test hosts (network namespaces running
 * sshd), a real HTTP health check, task logs read through the API, and a cancel that ends the
 * running command.
 */

const APP_SCRIPT = join(import.meta.dirname, '..', 'agent', 'physical', 'support', 'app.sh');
/** Real builds, SSH sessions and python servers on a shared, busy machine: generous, not a threshold. */
const SLOW_MS = 240_000;
/**
 * The templates give every step heartbeat_seconds = 120 (a deployment cannot change it), and
 * the agent sends a heartbeat every third of it: a cancel is noticed at the next beat.
 */
const HEARTBEAT_SECONDS = 120;
const AGENT_BEAT_MS = (HEARTBEAT_SECONDS * 1000) / 3;
/** On top of one beat: the SIGTERM → SIGKILL grace (3 s) and a loaded machine. */
const CANCEL_MARGIN_MS = 30_000;
const APP_PORT = 18_480;

let work = '';
let buildahStorage = '';
let runtime: LocalRuntime | undefined;
let agent: AgentProcess | undefined;
let registry: LocalRegistry | undefined;
let hosts: TestHosts | undefined;
let git: GitServer | undefined;
let api: ApiClient;
let environmentId = '';
let commit = '';

/** What the banner of `npm start` with AGENT=off says an agent should connect to. */
function agentEndpoints(stdout: string) {
  const sqs = /^\s+SQS\s+(\S+) \(task queue (\S+)\)$/m.exec(stdout);
  const sfn = /^\s+SFN\s+(\S+)$/m.exec(stdout);
  const logs = /^\s+logs\s+(\S+) \(table ([^,]+), task logs under TASKLOG#\)$/m.exec(stdout);
  if (!sqs?.[1] || !sqs[2] || !sfn?.[1] || !logs?.[1] || !logs[2]) {
    throw new Error(`the banner names no agent endpoints:\n${stdout}`);
  }
  return { sqs: sqs[1], queueUrl: sqs[2], stepFunctions: sfn[1], dynamoDb: logs[1], table: logs[2] };
}

const hostAt = (index: number): TestHost => {
  const host = hosts?.hosts[index];
  if (!host) throw new Error(`no test host ${index}`);
  return host;
};

async function page(host: TestHost, path = '/'): Promise<string> {
  const response = await fetch(`http://${host.address}:${APP_PORT}${path}`);
  return (await response.text()).trim();
}

async function createApplication(name: string, config: JsonObject): Promise<string> {
  const body = { name, repository: git?.url, type: 'microservice', config };
  return asString((await api.expect(201, 'POST', '/applications', { body })).id);
}

async function createVersion(gitTag: string): Promise<string> {
  const body = { git_tag: gitTag, git_commit: commit, repository: git?.url, description: `e2e ${gitTag}` };
  return asString((await api.expect(201, 'POST', '/versions', { body })).id);
}

async function deploy(versionId: string, applicationId: string): Promise<string> {
  const body = {
    version_id: versionId,
    application_ids: [applicationId],
    environment_id: environmentId,
    strategy: 'standard',
  };
  return asString((await api.expect(201, 'POST', '/deployments', { body })).id);
}

function taskOfType(tasks: readonly JsonObject[], type: string): JsonObject {
  const task = tasks.find((candidate) => candidate.type === type);
  if (task === undefined) throw new Error(`no ${type} task in ${JSON.stringify(tasks)}`);
  return task;
}

/** Every line of the task's log, following next_cursor until the API says `complete`. */
async function fullLog(taskId: string): Promise<string[]> {
  const texts: string[] = [];
  let cursor = '';
  let complete = false;
  await waitUntil(
    `the log of ${taskId} to be complete`,
    async () => {
      const query = cursor === '' ? '' : `?cursor=${encodeURIComponent(cursor)}`;
      const answer = await api.expect(200, 'GET', `/tasks/${taskId}/logs${query}`);
      expect(answer.task_id).toBe(taskId);
      for (const line of asObjects(answer.lines)) {
        expect(['stdout', 'stderr', 'agent']).toContain(line.stream);
        texts.push(asString(line.text));
      }
      cursor = asString(answer.next_cursor);
      complete = answer.complete === true;
      return complete;
    },
    60_000,
    200,
  );
  return texts;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'e2e-agent-'));
  runtime = new LocalRuntime({ launcher: 'npm', env: { AGENT: 'off', PORT: '0', QUIET: '1' } });
  const { dir: storageDir, ...storage } = busyboxBaseStorage();
  buildahStorage = storageDir;
  const repository = gitRepository({
    Dockerfile: `FROM ${BUSYBOX_BASE}\nCOPY test.sh /app/test.sh\nRUN ["/bin/busybox", "sh", "/app/test.sh"]\n`,
    'test.sh': '#!/bin/sh\necho "tests of the shop: all passed"\necho "coverage: 91.5%"\n',
  });
  commit = repository.commit;
  [registry, hosts, git] = await Promise.all([
    startRegistry(),
    startTestHosts(2),
    serveRepository(repository.dir),
  ]);
  const ready = await runtime.ready();
  api = new ApiClient(ready.apiUrl, ready.adminToken);
  const endpoints = agentEndpoints(runtime.stdout);

  const environment = await api.expect(201, 'POST', '/environments', {
    body: {
      name: 'hosts-e2e',
      type: 'physical',
      config: {
        // The API keeps config values scalar: the hosts are one comma-separated string.
        hosts: hosts.hosts.map((host) => host.name).join(', '),
        release_root: `${hosts.mountPoint}/shop`,
        fetch_command:
          "printf '%s %s\\n' {application} {git_tag} > {release_dir}/index.html && printf 'ok\\n' > {release_dir}/health && echo fetched {git_tag} on {host}",
        restart_command: `/bin/sh ${shellQuote(APP_SCRIPT)} {host} {port} {release_dir} ${shellQuote(`${hosts.mountPoint}/shop/state`)} ${shellQuote(join(hosts.shared, 'events.log'))}`,
        active_command:
          'python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" http://{host}:{port}/health',
        active_attempts: 50,
        active_interval_seconds: 0.2,
        app_port: APP_PORT,
      },
    },
  });
  environmentId = asString(environment.id);

  const config = {
    queue: { url: endpoints.queueUrl, region: LOCAL_REGION, endpoint: endpoints.sqs, wait_seconds: 1 },
    step_functions: { endpoint: endpoints.stepFunctions },
    concurrency: 2,
    work_dir: join(work, 'agent'),
    task_logs: { table: endpoints.table, endpoint: endpoints.dynamoDb },
    shutdown_grace_seconds: 5,
    buildah: { storage_driver: 'vfs', isolation: 'chroot', ...storage },
    targets: [
      {
        environment: 'hosts-e2e',
        base_url: `http://${hostAt(0).address}:${APP_PORT}`,
        registry: { host: registry.host, namespace: 'e2e', insecure: true },
        ssh: { user: hosts.user, private_key_path: hosts.privateKeyPath, known_hosts: [...hosts.knownHosts] },
      },
    ],
  };
  agent = startAgentProcess(writeConfig(work, config));
  await agent.waitForLog((line) => line.message === 'agent started');
}, SLOW_MS);

afterAll(async () => {
  if (agent && agent.child.exitCode === null) {
    agent.child.kill('SIGTERM');
    await agent.exited();
  }
  await runtime?.destroy();
  await Promise.all([registry?.stop(), git?.stop(), hosts?.cleanup()]);
  for (const dir of [work, buildahStorage]) if (dir !== '') await rm(dir, { recursive: true, force: true });
}, SLOW_MS);

describe('npm start (AGENT=off) with the real deploy agent on physical hosts', { timeout: SLOW_MS }, () => {
  it('runs a standard deployment to success: built, tested, rolled out to both hosts, health-checked, logged', async () => {
    const applicationId = await createApplication('shop', { test_command: 'sh test.sh' });
    const versionId = await createVersion('v1.0.0');
    const deploymentId = await deploy(versionId, applicationId);

    const deployment = await api.waitForDeployment(deploymentId, SLOW_MS - 30_000, 500);
    expect({ status: deployment.status, error_message: deployment.error_message }).toEqual({
      status: 'success',
      error_message: '',
    });
    const tasks = await api.tasksOf(deploymentId);
    expect(tasks.map((task) => [task.type, task.status]).sort()).toEqual(
      [
        ['build', 'success'],
        ['deploy', 'success'],
        ['health_check', 'success'],
        ['test', 'success'],
      ].sort(),
    );
    const image = `${registry?.host}/e2e/shop`;
    expect(asObject(JSON.parse(asString(taskOfType(tasks, 'build').result)))).toMatchObject({
      image: `${image}:v1.0.0`,
      commit,
    });
    expect(await registry?.digestOf('e2e/shop', 'v1.0.0')).toMatch(/^sha256:/);
    expect(asObject(JSON.parse(asString(taskOfType(tasks, 'test').result)))).toEqual({
      passed: true,
      coverage: 91.5,
    });

    // What a user of the hosts sees, over real HTTP.
    expect(await page(hostAt(0))).toBe('shop v1.0.0');
    expect(await page(hostAt(1))).toBe('shop v1.0.0');

    const buildLog = await fullLog(asString(taskOfType(tasks, 'build').id));
    expect(buildLog.some((text) => text.includes('git clone'))).toBe(true);
    expect(buildLog.some((text) => /\$ buildah .*\bbud\b/.test(text))).toBe(true);
    expect(buildLog).toContain('tests of the shop: all passed');
    const deployLog = (await fullLog(asString(taskOfType(tasks, 'deploy').id))).join('\n');
    expect(deployLog).toContain(`fetched v1.0.0 on ${hostAt(0).address}`);
    expect(deployLog).toContain(`fetched v1.0.0 on ${hostAt(1).address}`);
  });

  it('fails the health check and the deployment when the endpoint answers 404', async () => {
    const applicationId = await createApplication('shop-missing-health', {
      test_command: 'sh test.sh',
      endpoint: '/no-such-page',
      timeout: 4,
      interval_seconds: 1,
    });
    const versionId = await createVersion('v1.1.0');
    const deploymentId = await deploy(versionId, applicationId);

    const deployment = await api.waitForDeployment(deploymentId, SLOW_MS - 30_000, 500);
    const tasks = await api.tasksOf(deploymentId);
    const healthCheck = taskOfType(tasks, 'health_check');
    expect(deployment.status).toBe('failed');
    expect(deployment.error_message).toContain(asString(healthCheck.id));
    expect(deployment.error_message).toContain('HealthCheckFailed');
    expect(deployment.error_message).toContain('404');
    expect(tasks.map((task) => [task.type, task.status]).sort()).toEqual(
      [
        ['build', 'success'],
        ['deploy', 'success'],
        ['health_check', 'failed'],
        ['test', 'success'],
      ].sort(),
    );
    // The hosts were rolled out; only the check failed.
    expect(await page(hostAt(0))).toBe('shop-missing-health v1.1.0');
    expect(await page(hostAt(1), '/no-such-page')).toContain('404');
  });

  it('cancel through the API ends the running test command within one agent heartbeat', async () => {
    const marker = `e2e-cancel-${process.pid}-${Date.now()}`;
    // The trailing echo keeps the shell (whose command line carries the marker) running beside sleep.
    const applicationId = await createApplication('shop-long-tests', {
      test_command: `sleep 600; echo ${marker}`,
    });
    const versionId = await createVersion('v1.2.0');
    const deploymentId = await deploy(versionId, applicationId);

    let testTaskId = '';
    /** the shell of test_command (its command line carries the marker) and its sleep */
    let commandPids: number[] = [];
    await waitUntil(
      'the test task to run its command',
      async () => {
        const test = (await api.tasksOf(deploymentId)).find((task) => task.type === 'test');
        if (test?.status !== 'running') return false;
        testTaskId = asString(test.id);
        const processes = allProcesses();
        const shell = processes.find((info) => info.command.includes(marker));
        if (shell === undefined) return false;
        const sleep = processes.find((info) => info.ppid === shell.pid && info.command === 'sleep 600');
        if (sleep === undefined) return false;
        commandPids = [shell.pid, sleep.pid];
        return true;
      },
      SLOW_MS - 60_000,
      250,
    );

    const cancelled = await api.expect(200, 'POST', `/deployments/${deploymentId}/cancel`);
    expect(cancelled).toMatchObject({ id: deploymentId, status: 'failed' });
    await waitUntil(
      'the test command to be stopped',
      () => commandPids.every((pid) => !isRunning(pid)),
      AGENT_BEAT_MS + CANCEL_MARGIN_MS,
      100,
    );

    const deployment = await api.expect(200, 'GET', `/deployments/${deploymentId}`);
    expect({ status: deployment.status, error_message: deployment.error_message }).toEqual({
      status: 'failed',
      error_message: 'Deployment cancelled by user',
    });
    const test = await api.expect(200, 'GET', `/tasks/${testTaskId}`);
    expect(test.status).toBe('failed');
    await agent?.waitForLog((line) => line.task_id === testTaskId && /heartbeat refused/.test(line.message));
  });
});
