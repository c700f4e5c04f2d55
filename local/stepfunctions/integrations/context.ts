import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { TaskStateInfo } from '../definition';
import type { TaskEventSink } from '../history';
import type { JsonValue } from '../json';
import type { TokenRegistry } from '../token-registry';

/** The SDK clients the integrations call, pointed at DynamoDB Local and fauxqs. */
export interface AwsClients {
  readonly dynamoDb: DynamoDBClient;
  readonly sqs: SQSClient;
}

/** Everything one Task state invocation needs besides its effective Parameters. */
export interface IntegrationContext {
  readonly executionArn: string;
  readonly region: string;
  readonly task: TaskStateInfo;
  readonly clients: AwsClients;
  readonly tokens: TokenRegistry;
  readonly history: TaskEventSink;
}

export type TaskIntegration = (parameters: JsonValue, context: IntegrationContext) => Promise<JsonValue>;
