import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tracer } from '../observability/tracer';
import type { StoreContext } from '../store/store-context';

/**
 * Reads the function's environment once, at cold start: a missing variable fails the
 * start with its name instead of failing the tenth request.
 */
export function readEnvironment<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const names = result.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`missing or invalid environment variables: ${names}`);
  }
  return result.data;
}

export const TableEnvironment = z.object({ TABLE_NAME: z.string().min(1) });

/**
 * SDK clients are created once per container. Endpoints come from the SDK's own
 * configuration (`AWS_ENDPOINT_URL_DYNAMODB`, …), which is how the local runtime points the
 * same code at its stand-ins.
 */
export function storeContextFrom(environment: z.output<typeof TableEnvironment>): StoreContext {
  const client = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, tableName: environment.TABLE_NAME };
}

const StateMachineArns = z.object({ standard: z.string().min(1), 'blue-green': z.string().min(1) });

/** Functions that start workflows also know the state machine of each strategy. */
export const WorkflowEnvironment = TableEnvironment.extend({
  STATE_MACHINE_ARNS: z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(StateMachineArns),
});
