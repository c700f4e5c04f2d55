import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoreContext } from '../../lambdas/store/store-context';
import { type DynamoDbLocal, ensureTable, startDynamoDbLocal } from '../../local/dynamodb-local';
import { freePort } from '../../local/free-port';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';

/** A fresh service table plus a count of the DynamoDB requests sent through its client. */
export interface BenchTable {
  readonly store: StoreContext;
  /** DynamoDB requests sent so far (commands, before the SDK's retries). */
  requests(): number;
}

/**
 * What the sections share: one DynamoDB Local, started on first use and stopped by
 * `close()` whatever happened, and a new table per section so sections do not disturb
 * each other's figures.
 */
export class BenchContext {
  private dynamo: Promise<DynamoDbLocal> | undefined;
  private readonly clients: DynamoDBClient[] = [];

  private dynamoDb(): Promise<DynamoDbLocal> {
    this.dynamo ??= freePort().then((port) => startDynamoDbLocal({ port }));
    return this.dynamo;
  }

  async newTable(): Promise<BenchTable> {
    const { endpoint } = await this.dynamoDb();
    const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    this.clients.push(client);
    const tableName = `bench-${randomUUID()}`;
    await ensureTable(client, tableName);
    let requests = 0;
    client.middlewareStack.add(
      (next) => (args) => {
        requests += 1;
        return next(args);
      },
      { step: 'initialize', name: 'benchRequestCounter' },
    );
    const documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    return { store: { client: documentClient, tableName }, requests: () => requests };
  }

  async close(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
    const dynamo = this.dynamo;
    this.dynamo = undefined;
    if (dynamo) await (await dynamo.catch(() => undefined))?.stop();
  }
}
