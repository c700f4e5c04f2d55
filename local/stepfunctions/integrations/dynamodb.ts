import {
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { StatesRuntimeFailure } from '../errors';
import { isJsonObject, type JsonObject, type JsonValue, toJson } from '../json';
import { serviceFailure, withSdkMetadata } from './aws-responses';
import type { TaskIntegration } from './context';

/**
 * Exceptions Step Functions reports under their own name (the modeled exceptions of the
 * AWS SDK it uses). Anything else DynamoDB answers, e.g. ValidationException, surfaces as
 * `DynamoDB.AmazonDynamoDBException`, as on AWS.
 */
const MODELED_EXCEPTIONS = new Set([
  'ConditionalCheckFailedException',
  'ProvisionedThroughputExceededException',
  'ResourceNotFoundException',
  'ItemCollectionSizeLimitExceededException',
  'TransactionConflictException',
  'RequestLimitExceeded',
  'InternalServerErrorException',
  'ResourceInUseException',
  'LimitExceededException',
]);

/** `arn:aws:states:::dynamodb:<action>` with the state's Parameters as the request. */
export function dynamoDbIntegration(action: string): TaskIntegration {
  return async (parameters, context) => {
    if (!isJsonObject(parameters) || typeof parameters.TableName !== 'string') {
      throw new StatesRuntimeFailure(`dynamodb:${action} needs Parameters with a TableName`);
    }
    const request = withBinaryAttributes(parameters);
    try {
      return withSdkMetadata(await send(context.clients.dynamoDb, action, request));
    } catch (error) {
      throw serviceFailure(error, 'DynamoDB', 'DynamoDb', (name) =>
        MODELED_EXCEPTIONS.has(name) ? name : 'AmazonDynamoDBException',
      );
    }
  };
}

/**
 * `arn:aws:states:::aws-sdk:dynamodb:<action>`: the same request, but answered the AWS SDK
 * integrations' way: the response members alone (no SdkHttpMetadata), and errors named
 * `DynamoDb.<Error>` (the SDK's service name, PascalCase, always with the `Exception`
 * suffix), whatever the exception (no mapping to AmazonDynamoDBException). The Cause is the
 * service's message, which for a cancelled transaction lists its reasons in item order.
 */
export function dynamoDbSdkIntegration(action: string): TaskIntegration {
  return async (parameters, context) => {
    if (!isJsonObject(parameters)) {
      throw new StatesRuntimeFailure(`aws-sdk:dynamodb:${action} needs Parameters`);
    }
    try {
      const { $metadata: _metadata, ...members } = await sendSdk(
        context.clients.dynamoDb,
        action,
        withBinaryAttributes(parameters),
      );
      return toJson(members) ?? {};
    } catch (error) {
      throw serviceFailure(error, 'DynamoDb', 'DynamoDb', (name) =>
        name.endsWith('Exception') ? name : `${name}Exception`,
      );
    }
  };
}

function sendSdk(client: DynamoDBClient, action: string, request: Record<string, unknown>) {
  switch (action) {
    case 'getItem':
      return client.send(new GetItemCommand(request as unknown as GetItemCommandInput));
    case 'transactWriteItems':
      return client.send(new TransactWriteItemsCommand(request as unknown as TransactWriteItemsCommandInput));
    default:
      throw new StatesRuntimeFailure(`aws-sdk:dynamodb:${action} is not supported by the local stand-in`);
  }
}

// The Parameters are the API request in AWS's own JSON shape, which is the SDK input
// shape too (PascalCase members, AttributeValue maps); DynamoDB validates the rest.
function send(client: DynamoDBClient, action: string, request: Record<string, unknown>) {
  switch (action) {
    case 'putItem':
      return client.send(new PutItemCommand(request as unknown as PutItemCommandInput));
    case 'getItem':
      return client.send(new GetItemCommand(request as unknown as GetItemCommandInput));
    case 'updateItem':
      return client.send(new UpdateItemCommand(request as unknown as UpdateItemCommandInput));
    case 'deleteItem':
      return client.send(new DeleteItemCommand(request as unknown as DeleteItemCommandInput));
    default:
      throw new StatesRuntimeFailure(`dynamodb:${action} is not supported by the local stand-in`);
  }
}

const ATTRIBUTE_MAPS = ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const;

/**
 * In ASL, binary attributes (`B`, `BS`) are base64 strings; the SDK wants bytes. A
 * transaction's items (`TransactItems[*].Put/Update/Delete/ConditionCheck`) hold the same
 * attribute maps.
 */
function withBinaryAttributes(parameters: JsonObject): Record<string, unknown> {
  const request: Record<string, unknown> = { ...parameters };
  for (const member of ATTRIBUTE_MAPS) {
    const map = parameters[member];
    if (isJsonObject(map)) request[member] = mapValues(map, toSdkAttributeValue);
  }
  const items = parameters.TransactItems;
  if (Array.isArray(items)) {
    request.TransactItems = items.map((item) =>
      isJsonObject(item) ? mapValues(item, (op) => (isJsonObject(op) ? withBinaryAttributes(op) : op)) : item,
    );
  }
  return request;
}

function toSdkAttributeValue(value: JsonValue): unknown {
  if (!isJsonObject(value)) return value;
  if (typeof value.B === 'string') return { B: Buffer.from(value.B, 'base64') };
  if (Array.isArray(value.BS)) return { BS: value.BS.map((item) => Buffer.from(String(item), 'base64')) };
  if (isJsonObject(value.M)) return { M: mapValues(value.M, toSdkAttributeValue) };
  if (Array.isArray(value.L)) return { L: value.L.map(toSdkAttributeValue) };
  return value;
}

function mapValues(object: JsonObject, map: (value: JsonValue) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
}
