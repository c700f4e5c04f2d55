import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTaskMessage, type TaskMessageV1, taskSuccessRequest } from '../../lambdas/agent-protocol';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import { INTERRUPTED_MESSAGE } from '../../local/stack';
import { ApiClient, asObject, asString, type JsonObject } from './support/api';
import { type LaunchOptions, LocalRuntime, runUntilExit } from './support/local-runtime';
import { isJava, waitUntil } from './support/processes';

/**
 * The runtime's life as a process: start-up failures with a one-line error, a stop in the
 * middle of the start-up, DATA_DIR across a restart (with AGENT=off and an agent of our
 * own), and a part that dies. Independent cases run side by side.
 */

let scratch = '';
let keysDir = '';
const runtimes: LocalRuntime[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'e2e-lifecycle-'));
  keysDir = join(scratch, 'keys');
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.destroy()));
  await rm(scratch, { recursive: true, force: true });
});

function launch(options: LaunchOptions): LocalRuntime {
  const runtime = new LocalRuntime({ ...options, env: { LOCAL_KEYS_DIR: keysDir, ...options.env } });
  runtimes.push(runtime);
  return runtime;
}

async function failedStart(env: Readonly<Record<string, string | undefined>>) {
  const run = await runUntilExit({ env: { LOCAL_KEYS_DIR: keysDir, QUIET: undefined, ...env } });
  runtimes.push(run.runtime);
  return run;
}

/** Exactly one line on stderr, `error: …`. */
function errorLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  return lines[0] ?? '';
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe.concurrent('the local runtime as a process', () => {
  it('keeps DATA_DIR across a restart; AGENT=off leaves the work to an agent of your own; a dead part stops all', async () => {
    const dataDir = join(scratch, 'data');
    // First run: no simulated agent.
    const first = launch({ env: { DATA_DIR: dataDir, AGENT: 'off' } });
    const ready = await first.ready();
    expect(first.stdout).toContain('agent      off');
    expect(first.stdout).toContain(`on disk in ${dataDir}`);
    const endpoint = (name: string) => {
      const match = new RegExp(`${name}\\s+(http://[^\\s]+)`).exec(first.stdout);
      if (match?.[1] === undefined) throw new Error(`no ${name} endpoint in the banner`);
      return match[1];
    };
    const queueUrl = /task queue (http:\/\/[^\s)]+)/.exec(first.stdout)?.[1] ?? '';
    const api = new ApiClient(ready.apiUrl, ready.adminToken);
    const version = await api.expect(201, 'POST', '/versions', {
      body: { git_tag: 'v3.1.0', git_commit: 'fedcba987654', repository: 'https://github.com/org/kept' },
    });
    const application = await api.expect(201, 'POST', '/applications', {
      body: { name: 'kept-service', repository: 'https://github.com/org/kept', type: 'microservice' },
    });
    const environment = await api.expect(201, 'POST', '/environments', {
      body: { name: 'kept', type: 'physical', config: { hosts: 'a,b' } },
    });
    const deployment = await api.expect(201, 'POST', '/deployments', {
      body: {
        version_id: version.id,
        application_ids: [application.id],
        environment_id: environment.id,
      },
    });
    const deploymentId = asString(deployment.id);
    const tasksNow = async () => {
      const tasks = await api.tasksOf(deploymentId);
      return Object.fromEntries(tasks.map((task) => [asString(task.type), task]));
    };
    // Nobody answers: the first task waits, running, on the queue; the others stay pending.
    await api.waitFor(
      `/tasks?deployment_id=${deploymentId}&status=running`,
      (list) => list.total === 1,
      'the build to be handed to an agent',
    );
    const waiting = await tasksNow();
    expect(Object.fromEntries(Object.entries(waiting).map(([type, task]) => [type, task.status]))).toEqual({
      build: 'running',
      test: 'pending',
      deploy: 'pending',
      health_check: 'pending',
    });

    // An agent of our own, on the endpoints the banner prints: the real SQS and SFN calls.
    const sqs = new SQSClient({
      endpoint: endpoint('SQS'),
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const sfn = new SFNClient({
      endpoint: endpoint('SFN'),
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const receive = async (): Promise<TaskMessageV1> => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 10 }),
      );
      const [received] = Messages;
      if (received?.Body === undefined || received.ReceiptHandle === undefined)
        throw new Error('no task message');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }));
      return parseTaskMessage(received.Body);
    };
    try {
      const build = await receive();
      expect(build).toMatchObject({
        task_id: waiting.build?.id,
        task_type: 'build',
        deployment_id: deploymentId,
        attempt: 1,
      });
      await sfn.send(new SendTaskSuccessCommand(taskSuccessRequest(build, { image: 'own-agent:v3.1.0' })));
      const test = await receive();
      expect(test).toMatchObject({ task_id: waiting.test?.id, task_type: 'test' });
      // The test task is left unanswered: the stop below interrupts it.
    } finally {
      sqs.destroy();
      sfn.destroy();
    }
    await api.waitFor(
      `/tasks/${asString(waiting.test?.id)}`,
      (task) => task.status === 'running',
      'test to run',
    );

    first.signal('SIGTERM');
    expect(await first.exit()).toEqual({ code: 0, signal: null });
    await waitUntil('the first run to stop', () => first.leftovers().length === 0, 15_000);

    // Second run on the same folder, with the simulated agent.
    const second = launch({ env: { DATA_DIR: dataDir } });
    const again = await second.ready();
    expect(second.stdout).toContain('1 deployment(s) left unfinished by the last stop are now failed');
    // The key pair is kept too: a token of the first run still works.
    const kept = new ApiClient(again.apiUrl, ready.adminToken);
    for (const [path, before] of [
      [`/versions/${asString(version.id)}`, version],
      [`/applications/${asString(application.id)}`, application],
      [`/environments/${asString(environment.id)}`, environment],
    ] as const) {
      expect(await kept.expect(200, 'GET', path)).toEqual(before);
    }
    const interrupted = await kept.expect(200, 'GET', `/deployments/${deploymentId}`);
    expect(interrupted).toMatchObject({ status: 'failed', error_message: INTERRUPTED_MESSAGE });
    const afterRestart = await (async () => {
      const tasks = await kept.tasksOf(deploymentId);
      return Object.fromEntries(tasks.map((task) => [asString(task.type), task]));
    })();
    expect(afterRestart.build).toMatchObject({ status: 'success', result: '{"image":"own-agent:v3.1.0"}' });
    expect(afterRestart.test).toMatchObject({ status: 'failed' });
    expect(asObject(JSON.parse(asString(afterRestart.test?.result)))).toMatchObject({ error: 'Interrupted' });
    expect(afterRestart.deploy?.status).toBe('pending');
    expect(afterRestart.health_check?.status).toBe('pending');

    // Retrying the interrupted task resumes the deployment where it stopped.
    await kept.expect(200, 'POST', `/tasks/${asString(afterRestart.test?.id)}/retry`, { body: {} });
    expect(await kept.waitForDeployment(deploymentId)).toMatchObject({
      status: 'success',
      error_message: '',
    });
    const resumed: JsonObject[] = await kept.tasksOf(deploymentId);
    expect(resumed.map((task) => task.status)).toEqual(['success', 'success', 'success', 'success']);
    expect(resumed.find((task) => task.type === 'build')).toEqual(afterRestart.build);

    // A part that dies stops the whole, and says which.
    const java = second.tree().find(isJava);
    if (java === undefined) throw new Error('no Java process in the runtime');
    process.kill(java.pid, 'SIGKILL');
    expect((await second.exit()).code).toBe(1);
    expect(second.stderr).toMatch(
      /^error: DynamoDB Local stopped unexpectedly: the Java process exited \(SIGKILL\)/m,
    );
    await waitUntil('the second run to stop', () => second.leftovers().length === 0, 15_000);
  }, 150_000);

  it('stops cleanly on SIGTERM in the middle of the start-up, Java included', async () => {
    const runtime = launch({});
    await waitUntil('DynamoDB Local to be started', () => runtime.tree().some(isJava), 60_000, 20);
    runtime.signal('SIGTERM');
    expect(await runtime.exit()).toEqual({ code: 0, signal: null });
    expect(runtime.stdout).toContain('SIGTERM: stopping the local stack');
    expect(runtime.stdout).not.toContain('ready on');
    await waitUntil('every process to stop', () => runtime.leftovers().length === 0, 15_000);
  }, 90_000);

  it('stops cleanly on Ctrl-C in the middle of the start-up, though Java gets the signal too', async () => {
    const runtime = launch({});
    await waitUntil('DynamoDB Local to be started', () => runtime.tree().some(isJava), 60_000, 20);
    runtime.signalGroup('SIGINT');
    expect(await runtime.exit()).toEqual({ code: 0, signal: null });
    expect(runtime.stdout).not.toContain('ready on');
    expect(runtime.stderr).toBe('');
    await waitUntil('every process to stop', () => runtime.leftovers().length === 0, 15_000);
  }, 90_000);

  it('says in one line that the port is in use, before starting Java', async () => {
    const holder = await listenOn(0);
    const address = holder.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const run = await failedStart({ PORT: String(port) });
      expect(run.code).toBe(1);
      expect(errorLine(run.stderr)).toBe(
        `error: port ${port} is already in use; set PORT to a free port (e.g. PORT=3001 npm start)`,
      );
      expect(run.stdout).not.toContain('starting DynamoDB Local');
    } finally {
      holder.close();
    }
  });

  it('says in one line that Java is missing and how to get it', async () => {
    const emptyPath = await mkdtemp(join(scratch, 'no-java-'));
    const run = await failedStart({ PATH: emptyPath });
    expect(run.code).toBe(1);
    expect(errorLine(run.stderr)).toMatch(/^error: Java not found: DynamoDB Local needs Java 17 .*install/);
    expect(run.stdout).not.toContain('starting DynamoDB Local');
  });

  it('says in one line that DATA_DIR is not a writable folder', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, 'not a folder');
    for (const dataDir of [file, join(file, 'below')]) {
      const run = await failedStart({ DATA_DIR: dataDir });
      expect(run.code).toBe(1);
      expect(errorLine(run.stderr)).toBe(
        `error: DATA_DIR ${dataDir} cannot hold the database (it is not a folder); set DATA_DIR to a folder you can write, or unset it to keep data in memory`,
      );
    }
  });

  it('says in one line that PORT is not a port', async () => {
    const run = await failedStart({ PORT: 'eighty' });
    expect(run.code).toBe(1);
    expect(errorLine(run.stderr)).toBe('error: PORT must be an integer from 0 to 65535');
  });
});
