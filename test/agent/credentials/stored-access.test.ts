import { describe, expect, it } from 'vitest';
import type { CredentialsStore } from '../../../agent/credentials/credentials-store';
import { storedCredentialsAccess } from '../../../agent/credentials/stored-access';
import { TaskFailure } from '../../../agent/executors/executor';
import { SecretMasker } from '../../../agent/logs/secret-masker';
import type { CredentialAccess } from '../../../lambdas/agent-protocol/stored-credentials';
import { agentTask } from '../support/messages';

function access(stored: Record<string, unknown> | undefined, options: { failRecord?: boolean } = {}) {
  const records: CredentialAccess[] = [];
  const store: CredentialsStore = {
    fetch: async () => stored,
    record: async (record) => {
      if (options.failRecord)
        throw Object.assign(new Error('AccessDenied: arn:aws:iam::1:role/x'), {
          name: 'AccessDeniedException',
        });
      records.push(record);
    },
  };
  const masker = new SecretMasker();
  const lines: string[] = [];
  const message = agentTask({ environment: { id: 'env_7', name: 'prod' } });
  const used = storedCredentialsAccess({
    store,
    agentId: 'a1',
    message,
    environmentName: 'prod',
    masker,
    taskLog: { info: (line) => lines.push(line) },
    agentLog: () => undefined,
  });
  return { used, records, masker, lines };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => {
      if (!(error instanceof TaskFailure)) throw error;
      return error;
    },
  );

describe('stored credentials of a task', () => {
  it('fails NoCredentials naming the missing key, yet masks what the environment stores', async () => {
    const { used, records, masker } = access({ ssh_private_key: 'other-secret-123' });
    const failure = await failureOf(used.use(['kubeconfig'], 'kubernetes'));
    expect(failure.error).toBe('NoCredentials');
    expect(failure.cause).toContain('environment prod (env_7)');
    expect(failure.cause).toContain('lack "kubeconfig"');
    expect(records).toEqual([]);
    expect(masker.mask('x other-secret-123')).toBe('x ***');
  });

  it('fails NoCredentials when the agent reads no stored credentials at all', async () => {
    const masker = new SecretMasker();
    const used = storedCredentialsAccess({
      store: undefined,
      agentId: 'a1',
      message: agentTask(),
      environmentName: 'staging',
      masker,
      taskLog: { info: () => undefined },
      agentLog: () => undefined,
    });
    const failure = await failureOf(used.use(['ssh_private_key'], 'ssh'));
    expect(failure.error).toBe('NoCredentials');
    expect(failure.cause).toContain('stored_credentials');
  });

  it('does not use the values when the access cannot be recorded, and leaks no AWS text', async () => {
    const { used } = access({ kubeconfig: 'apiVersion: v1' }, { failRecord: true });
    const failure = await failureOf(used.use(['kubeconfig'], 'kubernetes'));
    expect(failure.error).toBe('CredentialAuditFailed');
    expect(failure.cause).not.toContain('arn:aws');
  });

  it('records the access and logs the key names, never the values', async () => {
    const { used, records, lines } = access({ kubeconfig: 'apiVersion: v1\nkind: Config', note: 42 });
    expect(await used.use(['kubeconfig'], 'kubernetes')).toEqual({
      kubeconfig: 'apiVersion: v1\nkind: Config',
    });
    expect(records).toEqual([
      expect.objectContaining({
        environmentId: 'env_7',
        keys: ['kubeconfig'],
        usedFor: 'kubernetes',
        agentId: 'a1',
      }),
    ]);
    expect(lines.join('\n')).not.toContain('apiVersion');
  });
});
