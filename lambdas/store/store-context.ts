import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What every repository needs: the document client and the one table's name. */
export interface StoreContext {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}
