import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { INDEX_LIST } from '../../lambdas/store/table-definition';
import { useTestTable } from '../support/dynamodb';

describe('the shared table definition', () => {
  const table = useTestTable();

  it('creates a table in DynamoDB Local with every index the store queries', async () => {
    const { Table } = await table.client.send(new DescribeTableCommand({ TableName: table.tableName }));
    expect(Table?.KeySchema?.map((key) => key.AttributeName)).toEqual(['pk', 'sk']);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(
      INDEX_LIST.map((index) => index.indexName).sort(),
    );
  });
});
