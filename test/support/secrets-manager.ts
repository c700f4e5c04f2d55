import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, inject } from 'vitest';
import { credentialsSecretName } from '../../lambdas/agent-protocol/stored-credentials';
import {
  createSecretsManagerCredentials,
  type EnvironmentCredentials,
} from '../../lambdas/store/environment-credentials';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';

export interface TestCredentials {
  /** moto's server (AWS_ENDPOINT_URL_SECRETS_MANAGER) */
  readonly endpoint: string;
  readonly client: SecretsManagerClient;
  readonly prefix: string;
  readonly credentials: EnvironmentCredentials;
  /** the secret's value as the agent would read it; undefined when there is no secret */
  storedValue(environmentId: string): Promise<string | undefined>;
}

export const localSecretsManagerClient = (endpoint: string): SecretsManagerClient =>
  new SecretsManagerClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

/** The environments' credentials store on the shared moto server, under a prefix of the calling file's own. */
export function useTestCredentials(): TestCredentials {
  const endpoint = inject('secretsManagerEndpoint');
  const client = localSecretsManagerClient(endpoint);
  const prefix = `test/${randomUUID()}/environments/`;
  afterAll(() => client.destroy());
  return {
    endpoint,
    client,
    prefix,
    credentials: createSecretsManagerCredentials({ client, prefix }),
    async storedValue(environmentId) {
      try {
        const answer = await client.send(
          new GetSecretValueCommand({ SecretId: credentialsSecretName(prefix, environmentId) }),
        );
        return answer.SecretString;
      } catch (error) {
        if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
  };
}
