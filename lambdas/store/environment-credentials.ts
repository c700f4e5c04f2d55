import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { credentialsSecretName, StoredCredentials } from '../agent-protocol/stored-credentials';
import { Unavailable } from '../domain/errors';

/** Secret config values by key, as the agent reads them (agent-protocol/stored-credentials.ts). */
export type CredentialValues = Readonly<Record<string, unknown>>;

/**
 * Where an environment's secret config values live: one Secrets Manager secret per
 * environment. Only the environments function uses this port, and it reads only to merge a
 * partial update (`"[redacted]"` keeps a value), never to answer.
 */
export interface EnvironmentCredentials {
  /** The stored values; `{}` when the environment has no secret. */
  readForMerge(environmentId: string): Promise<CredentialValues>;
  /** Creates or replaces the secret; with no keys at all, deletes it (no keys, no secret). */
  put(environmentId: string, values: CredentialValues): Promise<void>;
  /** Deletes the secret at once (no recovery window); nothing to delete is fine. */
  delete(environmentId: string): Promise<void>;
}

export interface SecretsManagerCredentialsOptions {
  readonly client: SecretsManagerClient;
  /** `<prefix><environment id>` names the secret */
  readonly prefix: string;
  /** the KMS key that encrypts the secrets; the account's default key when absent */
  readonly kmsKeyId?: string;
  /**
   * The only principals that may read a secret (the agent role and the environments
   * function's role); every secret gets a resource policy denying GetSecretValue to anyone
   * else. No policy when empty.
   */
  readonly readerArns?: readonly string[];
}

const UNAVAILABLE = 'The credentials store could not be reached; retry shortly';

const nameOf = (error: unknown): string => (error instanceof Error ? error.name : '');

/** Every Secrets Manager fault is a 503 the client may retry; its AWS text stays here. */
async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Unavailable) throw error;
    throw new Unavailable(UNAVAILABLE);
  }
}

/** Denies GetSecretValue to every principal but the readers (the IAM policies grant them). */
export function readerOnlyPolicy(readerArns: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyTheAgentAndTheEnvironmentsFunctionRead',
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': [...readerArns] } },
      },
    ],
  });
}

export function createSecretsManagerCredentials(
  options: SecretsManagerCredentialsOptions,
): EnvironmentCredentials {
  const { client, prefix } = options;
  const readers = options.readerArns ?? [];
  const secretId = (environmentId: string) => credentialsSecretName(prefix, environmentId);

  const remove = (environmentId: string) =>
    guarded(async () => {
      try {
        await client.send(
          new DeleteSecretCommand({ SecretId: secretId(environmentId), ForceDeleteWithoutRecovery: true }),
        );
      } catch (error) {
        if (nameOf(error) !== 'ResourceNotFoundException') throw error;
      }
    });

  return {
    readForMerge: (environmentId) =>
      guarded(async () => {
        try {
          const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId(environmentId) }));
          return StoredCredentials.parse(JSON.parse(answer.SecretString ?? '{}'));
        } catch (error) {
          if (nameOf(error) === 'ResourceNotFoundException') return {};
          throw error;
        }
      }),
    put: (environmentId, values) => {
      if (Object.keys(values).length === 0) return remove(environmentId);
      const SecretString = JSON.stringify(values);
      return guarded(async () => {
        try {
          await client.send(new PutSecretValueCommand({ SecretId: secretId(environmentId), SecretString }));
          return;
        } catch (error) {
          if (nameOf(error) !== 'ResourceNotFoundException') throw error;
        }
        const name = secretId(environmentId);
        try {
          await client.send(
            new CreateSecretCommand({
              Name: name,
              SecretString,
              Description: `deploy-manager: the stored credentials of environment ${environmentId}`,
              ...(options.kmsKeyId === undefined ? {} : { KmsKeyId: options.kmsKeyId }),
              Tags: [{ Key: 'deploy-manager:environment', Value: environmentId }],
            }),
          );
        } catch (error) {
          // created meanwhile by an earlier, timed-out attempt of this write
          if (nameOf(error) !== 'ResourceExistsException') throw error;
          await client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
        }
        if (readers.length > 0) {
          await client.send(
            new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: readerOnlyPolicy(readers) }),
          );
        }
      });
    },
    delete: remove,
  };
}
