import type { TaskMessageV1 } from '../../lambdas/agent-protocol';
import { TaskFailure } from '../executors/executor';
import type { SecretMasker } from '../logs/secret-masker';
import type { AgentLogger } from '../runtime/logger';
import type { CredentialsStore } from './credentials-store';
import { maskingForms, storedText } from './decode';

/** What a target is built from stored credentials for: the access record's `used_for`. */
export type CredentialUse = 'kubernetes' | 'ssh';

/**
 * An executor's way to the stored credentials of its task's environment. Each call fetches
 * them anew (a rotation takes effect for the next task; nothing is kept on disk or across
 * tasks), records the access, masks every value in the task's log and result, and logs
 * which keys were used, never their values.
 */
export interface StoredCredentialsAccess {
  use(keys: readonly string[], usedFor: CredentialUse): Promise<Record<string, string>>;
}

export interface StoredAccessOptions {
  /** undefined when the agent config has no `stored_credentials` */
  readonly store: CredentialsStore | undefined;
  readonly agentId: string;
  readonly message: TaskMessageV1;
  readonly environmentName: string;
  readonly masker: SecretMasker;
  readonly taskLog: { info(line: string): void };
  readonly agentLog: AgentLogger;
}

export const NO_CREDENTIALS = 'NoCredentials';

export function storedCredentialsAccess(options: StoredAccessOptions): StoredCredentialsAccess {
  const { store, message, masker } = options;
  const environment = `${options.environmentName} (${message.environment_id})`;
  return {
    async use(keys, usedFor) {
      const expected = keys.map((name) => `"${name}"`).join(', ');
      const section = usedFor === 'kubernetes' ? 'kubernetes (kubeconfig_path)' : 'ssh (private_key_path)';
      if (!store) {
        throw new TaskFailure(
          NO_CREDENTIALS,
          `no credentials for environment ${environment}: the agent's config has no ${section} for it and reads no stored credentials (stored_credentials); expected the environment's key ${expected}`,
        );
      }
      let stored: Record<string, unknown> | undefined;
      try {
        stored = await store.fetch(message.environment_id);
      } catch (error) {
        throw new TaskFailure(
          'StoredCredentialsUnavailable',
          `cannot read the stored credentials of environment ${environment} (${error instanceof Error ? error.name : 'error'})`,
        );
      }
      if (stored === undefined) {
        throw new TaskFailure(
          NO_CREDENTIALS,
          `no credentials for environment ${environment}: it stores none and the agent's config has no ${section} for it; expected the environment's key ${expected}`,
        );
      }
      const values = Object.fromEntries(
        Object.entries(stored).map(([name, value]) => [name, storedText(value)]),
      );
      // Every stored value is masked, the ones this task does not use as well.
      for (const value of Object.values(values)) for (const form of maskingForms(value)) masker.add(form);
      const missing = keys.filter((name) => !values[name]);
      if (missing.length > 0) {
        throw new TaskFailure(
          NO_CREDENTIALS,
          `no credentials for environment ${environment}: its stored credentials lack ${missing.map((name) => `"${name}"`).join(', ')} and the agent's config has no ${section} for it; expected the environment's key ${expected}`,
        );
      }
      try {
        await store.record({
          environmentId: message.environment_id,
          taskId: message.task_id,
          deploymentId: message.deployment_id,
          attempt: message.attempt,
          agentId: options.agentId,
          keys,
          usedFor,
        });
      } catch (error) {
        throw new TaskFailure(
          'CredentialAuditFailed',
          `cannot record the access to the stored credentials of environment ${environment}, so they were not used (${error instanceof Error ? error.name : 'error'})`,
        );
      }
      options.taskLog.info(
        `using the stored credentials of environment ${environment} for ${usedFor}: keys ${keys.join(', ')}`,
      );
      options.agentLog('info', 'used stored credentials', {
        task_id: message.task_id,
        attempt: message.attempt,
        environment_id: message.environment_id,
        keys: [...keys],
        used_for: usedFor,
      });
      return Object.fromEntries(keys.map((name) => [name, values[name] ?? '']));
    },
  };
}
