import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from '../local-aws';
import { createActions } from './actions';
import { type AwsScope, stateMachineArnOf } from './arns';
import { ExecutionRegistry } from './execution-registry';
import { startProtocolServer } from './server';
import { StateMachineRegistry, type StateMachineSpec } from './state-machine-registry';
import { TokenRegistry } from './token-registry';

export type { StateMachineSpec } from './state-machine-registry';

export interface StepFunctionsLocalOptions {
  /** Port to listen on; 0 picks a free one (see `endpoint`). */
  readonly port: number;
  /** Interface to bind; 127.0.0.1 unless given. */
  readonly host?: string;
  /** DynamoDB Local, for `arn:aws:states:::dynamodb:*` task states. */
  readonly dynamoDbEndpoint: string;
  /** fauxqs, for `arn:aws:states:::sqs:sendMessage[.waitForTaskToken]` task states. */
  readonly sqsEndpoint: string;
  /** Registered before the server answers; more can come with CreateStateMachine. */
  readonly stateMachines?: readonly StateMachineSpec[];
  readonly region?: string;
  readonly accountId?: string;
}

export interface StepFunctionsLocal {
  /** Give it to `new SFNClient({ endpoint })`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>` */
  stateMachineArn(name: string): string;
  /** Stops running executions (ABORTED), then the server. */
  stop(): Promise<void>;
}

/**
 * A Step Functions stand-in: the real JSON protocol on top of the aws-local-stepfunctions
 * interpreter, with the optimized DynamoDB and SQS integrations (callback pattern
 * included) calling DynamoDB Local and fauxqs for real. An invalid definition fails the
 * start with the reason CreateStateMachine would answer (InvalidDefinition).
 */
export async function startStepFunctionsLocal(
  options: StepFunctionsLocalOptions,
): Promise<StepFunctionsLocal> {
  const scope: AwsScope = {
    region: options.region ?? LOCAL_REGION,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
  };
  // One attempt per call: retrying is the definition's job (Retry), as on AWS.
  const clientConfig = { region: scope.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
  const clients = {
    dynamoDb: new DynamoDBClient({ ...clientConfig, endpoint: options.dynamoDbEndpoint }),
    sqs: new SQSClient({ ...clientConfig, endpoint: options.sqsEndpoint }),
  };
  const destroyClients = () => {
    clients.dynamoDb.destroy();
    clients.sqs.destroy();
  };

  const tokens = new TokenRegistry();
  const stateMachines = new StateMachineRegistry(scope);
  const executions = new ExecutionRegistry(scope, stateMachines, { region: scope.region, clients, tokens });
  for (const spec of options.stateMachines ?? []) {
    try {
      stateMachines.create(spec);
    } catch (error) {
      destroyClients();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`state machine '${spec.name}': ${reason}`, { cause: error });
    }
  }

  const server = await startProtocolServer({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    actions: createActions({ stateMachines, executions, tokens }),
  }).catch((error: unknown) => {
    destroyClients();
    throw error;
  });

  return {
    endpoint: server.endpoint,
    region: scope.region,
    accountId: scope.accountId,
    stateMachineArn: (name) => stateMachineArnOf(scope, name),
    async stop() {
      await server.close();
      await executions.stopAll();
      destroyClients();
    },
  };
}
