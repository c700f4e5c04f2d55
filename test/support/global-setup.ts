import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { freePort } from '../../local/free-port';
import { startSecretsManagerLocal } from '../../local/secrets-manager-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
    secretsManagerEndpoint: string;
  }
}

/**
 * One DynamoDB Local and one moto server (Secrets Manager) for the whole run; every test
 * file makes its own table in the one and uses its own secret name prefix in the other.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A loaded machine starts the JVM slowly; the suite waits for it rather than failing every file.
  const dynamo = await startDynamoDbLocal({ port: await freePort(), startTimeoutMs: 90_000 });
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  const secretsManager = await startSecretsManagerLocal().catch(async (error: unknown) => {
    await dynamo.stop();
    throw error;
  });
  project.provide('secretsManagerEndpoint', secretsManager.endpoint);
  return async () => {
    await secretsManager.stop();
    await dynamo.stop();
  };
}
