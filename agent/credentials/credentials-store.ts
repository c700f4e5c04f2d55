import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CredentialAccess,
  credentialAccessItem,
  credentialsSecretName,
  StoredCredentials,
} from '../../lambdas/agent-protocol/stored-credentials';

/** Where an environment's stored credentials come from and where each fetch is recorded. */
export interface CredentialsStore {
  /** the environment's secret config keys and values; `undefined` when it stores none */
  fetch(environmentId: string): Promise<StoredCredentials | undefined>;
  /** the audit record of one fetch, put before the values are used */
  record(access: CredentialAccess): Promise<void>;
}

/** The stored-credentials channel on AWS (and on moto locally): docs/credentials.md. */
export class SecretsManagerCredentialsStore implements CredentialsStore {
  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly prefix: string,
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  async fetch(environmentId: string): Promise<StoredCredentials | undefined> {
    let text: string | undefined;
    try {
      const answer = await this.secrets.send(
        new GetSecretValueCommand({ SecretId: credentialsSecretName(this.prefix, environmentId) }),
      );
      text = answer.SecretString;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
    if (text === undefined) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = StoredCredentials.safeParse(data);
    return parsed.success ? parsed.data : undefined;
  }

  async record(access: CredentialAccess): Promise<void> {
    await this.dynamo.send(
      new PutCommand({ TableName: this.table, Item: credentialAccessItem(access, this.now()) }),
    );
  }
}
