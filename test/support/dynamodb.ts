import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { ensureTable } from '../../local/dynamodb-local';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import { enforceDynamoDbGrants } from './function-grants';

export interface TestTable {
  readonly tableName: string;
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
}

/** A client for DynamoDB Local; handlers using it have their function's grants enforced. */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  enforceDynamoDbGrants(client);
  return client;
}

/** A fresh table in the shared DynamoDB Local for the calling test file, dropped afterwards. */
export function useTestTable(): TestTable {
  const endpoint = inject('dynamoDbEndpoint');
  const client = localDynamoDbClient(endpoint);
  const table: TestTable = {
    tableName: `test-${randomUUID()}`,
    endpoint,
    client,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
  };
  beforeAll(async () => {
    await ensureTable(client, table.tableName);
  });
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: table.tableName })).catch(() => undefined);
    client.destroy();
  });
  return table;
}
