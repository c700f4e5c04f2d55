import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTarget } from '../../../agent/config/target';
import { SecretsManagerCredentialsStore } from '../../../agent/credentials/credentials-store';
import { storedCredentialsAccess } from '../../../agent/credentials/stored-access';
import { type Executor, TaskFailure } from '../../../agent/executors/executor';
import { kubernetesExecutors } from '../../../agent/executors/kubernetes';
import { physicalExecutors } from '../../../agent/executors/physical';
import type { LogLevel } from '../../../agent/runtime/logger';
import { credentialAccessPartition } from '../../../lambdas/agent-protocol/stored-credentials';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/local-aws';
import { type SecretsManagerLocal, startSecretsManagerLocal } from '../../../local/secrets-manager-local';
import { useTestTable } from '../../support/dynamodb';
import { type KubeApiServer, startKubeApiServer } from '../kubernetes/support/kube-api-server';
import { writeKubeconfig } from '../kubernetes/support/kubeconfig';
import { startTestHosts, type TestHosts } from '../physical/support/hosts';
import { agentTask } from '../support/messages';
import { taskContext } from '../support/task-context';

/**
 * The executors with an environment's stored credentials: moto as Secrets Manager, DynamoDB
 * Local for the access records, the test Kubernetes API server and real sshd hosts.
 */

const PREFIX = 'deploy-manager/environments/';
const STORED_TOKEN = 'stored-token-5f1c9a7e3b';
const ROTATED_TOKEN = 'rotated-token-0d4e8b2a6c';
const HELD_TOKEN = 'held-token-9a3b7c1d5e';

const table = useTestTable();
let moto: SecretsManagerLocal;
let secrets: SecretsManagerClient;
let kube: KubeApiServer;
let hosts: TestHosts;
let dir: string;
const agentLog: { level: LogLevel; message: string; fields: Record<string, unknown> }[] = [];

beforeAll(async () => {
  [moto, kube, hosts] = await Promise.all([
    startSecretsManagerLocal(),
    startKubeApiServer({
      users: {
        [STORED_TOKEN]: { name: 'stored' },
        [ROTATED_TOKEN]: { name: 'rotated' },
        [HELD_TOKEN]: { name: 'held' },
      },
    }),
    startTestHosts(1),
  ]);
  secrets = new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  dir = await mkdtemp(join(tmpdir(), 'stored-credentials-'));
}, 120_000);

afterAll(async () => {
  secrets?.destroy();
  await Promise.all([moto?.stop(), kube?.stop(), hosts?.cleanup()]);
});

const kubeconfigWith = async (token: string) =>
  readFile(await writeKubeconfig(join(dir, `kubeconfig-${token}`), kube, token), 'utf8');

const store = () =>
  new SecretsManagerCredentialsStore(secrets, PREFIX, table.documentClient, table.tableName);

const putSecret = async (environmentId: string, values: Record<string, string>) => {
  const SecretString = JSON.stringify(values);
  await secrets
    .send(new CreateSecretCommand({ Name: `${PREFIX}${environmentId}`, SecretString }))
    .catch(async (error: Error) => {
      if (error.name !== 'ResourceExistsException') throw error;
      await secrets.send(new PutSecretValueCommand({ SecretId: `${PREFIX}${environmentId}`, SecretString }));
    });
};

const accessRecords = async (environmentId: string) => {
  const { Items = [] } = await table.documentClient.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': credentialAccessPartition(environmentId) },
    }),
  );
  return Items;
};

const executorOf = (executors: readonly Executor[], type: string): Executor => {
  const found = executors.find((executor) => executor.type === type);
  if (!found) throw new Error(`no ${type} executor`);
  return found;
};
const kubeDeploy = executorOf(kubernetesExecutors({ pollIntervalMs: 25 }), 'deploy');
const sshDeploy = executorOf(physicalExecutors(), 'deploy');

/** One task as the runtime runs it: its context, with the stored credentials of the agent. */
function task(options: {
  environmentId: string;
  type?: string;
  config: Record<string, string | number>;
  target?: Partial<AgentTarget>;
  gitTag?: string;
}) {
  const message = agentTask({
    type: options.type ?? 'deploy',
    config: options.config,
    environment: { id: options.environmentId, name: 'staging' },
    gitTag: options.gitTag ?? '3.10',
  });
  const context = taskContext(message, options.target);
  const storedCredentials = storedCredentialsAccess({
    store: store(),
    agentId: 'agent-test-1',
    message,
    environmentName: 'staging',
    masker: context.masker,
    taskLog: context.log,
    agentLog: (level, text, fields = {}) => agentLog.push({ level, message: text, fields }),
  });
  return { message, context: { ...context, storedCredentials } };
}

async function failureOf(promise: Promise<unknown>): Promise<TaskFailure> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof TaskFailure)) throw new Error(`expected a TaskFailure, got ${String(outcome)}`);
  return outcome;
}

const tokensSince = (from: number) => new Set(kube.requests.slice(from).map((request) => request.token));

describe('kubernetes with the stored kubeconfig', () => {
  const environmentId = 'env_kube_stored';
  const config = { image: 'registry.k8s.io/pause', namespace: 'default', replicas: 1 };

  beforeAll(async () => {
    const admin = await kubeconfigWith(STORED_TOKEN);
    // The Deployment the tasks update, created with a plain client.
    const kc = new KubeConfig();
    kc.loadFromString(admin);
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'api' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api' } },
          template: {
            metadata: { labels: { app: 'api' } },
            spec: { containers: [{ name: 'api', image: 'registry.k8s.io/pause:3.9' }] },
          },
        },
      },
    });
  });

  it('deploys with the base64 kubeconfig the environment stores, records the access and masks every form', async () => {
    const kubeconfig = await kubeconfigWith(STORED_TOKEN);
    const posted = Buffer.from(kubeconfig).toString('base64');
    await putSecret(environmentId, { kubeconfig: posted, api_token: 'unused-secret-value-77' });
    const from = kube.requests.length;
    const { message, context } = task({ environmentId, config });

    const result = await kubeDeploy.execute(context);

    expect(result).toMatchObject({ deployment: 'api', image: 'registry.k8s.io/pause:3.10' });
    expect(tokensSince(from)).toEqual(new Set([STORED_TOKEN]));
    const records = await accessRecords(environmentId);
    expect(records).toEqual([
      expect.objectContaining({
        environment_id: environmentId,
        task_id: message.task_id,
        deployment_id: message.deployment_id,
        attempt: 1,
        agent_id: 'agent-test-1',
        keys: ['kubeconfig'],
        used_for: 'kubernetes',
      }),
    ]);
    expect(JSON.stringify(records)).not.toContain(STORED_TOKEN);
    await context.writer.close();
    expect(context.sink.text(message.task_id)).toContain(
      `using the stored credentials of environment staging (${environmentId}) for kubernetes: keys kubeconfig`,
    );
    expect(agentLog).toContainEqual(
      expect.objectContaining({
        message: 'used stored credentials',
        fields: expect.objectContaining({ environment_id: environmentId, keys: ['kubeconfig'] }),
      }),
    );
    expect(JSON.stringify(agentLog)).not.toContain(STORED_TOKEN);
    // What the task could ever print is masked: the value, its decoded form, the token alone.
    const masked = context.masker.mask(`${posted}\n${kubeconfig}\n${STORED_TOKEN}\nunused-secret-value-77`);
    for (const value of [posted, STORED_TOKEN, 'unused-secret-value-77']) expect(masked).not.toContain(value);
  });

  it('uses the rotated kubeconfig for the next task, plain YAML as well', async () => {
    await putSecret(environmentId, { kubeconfig: await kubeconfigWith(ROTATED_TOKEN) });
    const from = kube.requests.length;
    const { context } = task({ environmentId, config });

    await expect(kubeDeploy.execute(context)).resolves.toMatchObject({ deployment: 'api' });

    expect(tokensSince(from)).toEqual(new Set([ROTATED_TOKEN]));
    expect(await accessRecords(environmentId)).toHaveLength(2);
  });

  it("prefers the agent's own kubeconfig: another token, no fetch, no access record", async () => {
    const heldPath = await writeKubeconfig(join(dir, 'held-kubeconfig'), kube, HELD_TOKEN);
    const from = kube.requests.length;
    const { context } = task({
      environmentId,
      config,
      target: { kubernetes: { kubeconfig_path: heldPath } },
    });

    await expect(kubeDeploy.execute(context)).resolves.toMatchObject({ deployment: 'api' });

    expect(tokensSince(from)).toEqual(new Set([HELD_TOKEN]));
    expect(await accessRecords(environmentId)).toHaveLength(2);
  });

  it('fails with NoCredentials naming the environment and the key once the secret is deleted', async () => {
    await secrets.send(
      new DeleteSecretCommand({ SecretId: `${PREFIX}${environmentId}`, ForceDeleteWithoutRecovery: true }),
    );
    const { context } = task({ environmentId, config });

    const failure = await failureOf(kubeDeploy.execute(context));

    expect(failure.error).toBe('NoCredentials');
    expect(failure.cause).toContain(`environment staging (${environmentId})`);
    expect(failure.cause).toContain('"kubeconfig"');
    expect(await accessRecords(environmentId)).toHaveLength(2);
  });
});

describe('physical hosts with the stored SSH key', { timeout: 180_000 }, () => {
  const environmentId = 'env_ssh_stored';
  const hostConfig = () => {
    const [host] = hosts.hosts;
    if (!host) throw new Error('no host');
    return {
      host,
      config: {
        hosts: host.name,
        release_root: `${hosts.mountPoint}/credapp`,
        fetch_command: 'printf %s {git_tag} > {release_dir}/VERSION && echo fetched {git_tag}',
        restart_command: 'true',
        ssh_user: hosts.user,
        ssh_known_hosts: hosts.knownHosts.join('\n'),
      },
    };
  };

  it('deploys to the real host with the base64 key the environment stores, and masks it', async () => {
    const pem = readFileSync(hosts.privateKeyPath, 'utf8');
    await putSecret(environmentId, { ssh_private_key: Buffer.from(pem).toString('base64') });
    const { host, config } = hostConfig();
    const { message, context } = task({ environmentId, config, gitTag: 'v7' });

    await expect(sshDeploy.execute(context)).resolves.toMatchObject({ hosts: [host.name] });

    expect(readFileSync(join(host.files, 'credapp', 'releases', 'v7', 'VERSION'), 'utf8')).toBe('v7');
    expect(await accessRecords(environmentId)).toEqual([
      expect.objectContaining({ task_id: message.task_id, keys: ['ssh_private_key'], used_for: 'ssh' }),
    ]);
    const keyLine = pem.split('\n')[1] ?? '';
    expect(context.masker.mask(`${pem}\n${keyLine}`)).not.toContain(keyLine);
  });

  it('fails clearly without pinned host keys, before fetching', async () => {
    const { config } = hostConfig();
    const { context } = task({ environmentId, config: { ...config, ssh_known_hosts: '' } });

    const failure = await failureOf(sshDeploy.execute(context));

    expect(failure.error).toBe('HostKeysNotPinned');
    expect(await accessRecords(environmentId)).toHaveLength(1);
  });

  it('fails with NoCredentials when the environment stores no SSH key', async () => {
    const { config } = hostConfig();
    const { context } = task({ environmentId: 'env_ssh_none', config });

    const failure = await failureOf(sshDeploy.execute(context));

    expect(failure.error).toBe('NoCredentials');
    expect(failure.cause).toContain('"ssh_private_key"');
  });
});
