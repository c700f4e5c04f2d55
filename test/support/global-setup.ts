import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { freePort } from '../../local/free-port';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

/** One DynamoDB Local for the whole run; every test file makes its own table in it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A loaded machine starts the JVM slowly; the suite waits for it rather than failing every file.
  const dynamo = await startDynamoDbLocal({ port: await freePort(), startTimeoutMs: 90_000 });
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
