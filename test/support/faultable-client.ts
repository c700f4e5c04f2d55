import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { localDynamoDbClient, type TestTable } from './dynamodb';

/**
 * A document client on the test table into which a test injects faults (`mock.on(…).rejects`).
 * The mock replaces `send`, below the SDK's retry middleware: an injected fault is what the
 * code sees once the SDK's own retries gave up. `forwardEverything()` sends every command the
 * repositories use on to DynamoDB Local again, so a test also checks what really got stored.
 */
export function faultableClient(table: TestTable) {
  const real = table.documentClient;
  const client = DynamoDBDocumentClient.from(localDynamoDbClient(table.endpoint), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const mock = mockClient(client);
  const forwardEverything = (): void => {
    mock.reset();
    mock.on(GetCommand).callsFake((input) => real.send(new GetCommand(input)));
    mock.on(QueryCommand).callsFake((input) => real.send(new QueryCommand(input)));
    mock.on(PutCommand).callsFake((input) => real.send(new PutCommand(input)));
    mock.on(UpdateCommand).callsFake((input) => real.send(new UpdateCommand(input)));
    mock.on(DeleteCommand).callsFake((input) => real.send(new DeleteCommand(input)));
    mock.on(BatchGetCommand).callsFake((input) => real.send(new BatchGetCommand(input)));
    mock.on(TransactWriteCommand).callsFake((input) => real.send(new TransactWriteCommand(input)));
  };
  return { client, mock, forwardEverything };
}
