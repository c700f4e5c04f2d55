import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ROUTES } from '../../lambdas/api/routes';
import type { ApiResource } from '../../lambdas/http/route';
import { RESOURCE_ACCESS } from '../../lib/api-functions';

/**
 * IAM for the tests: while a handler runs (callApi), every DynamoDB and Step Functions call it
 * makes is checked against the grants the CDK stack gives that resource's function
 * (RESOURCE_ACCESS), and refused with AccessDeniedException as AWS would refuse it. So a code
 * path that needs an action the stack does not grant fails its test here, not in production.
 */
const runningFunction = new AsyncLocalStorage<ApiResource>();

const resourceByPath = new Map<string, ApiResource>(
  Object.values(ROUTES).map((route) => [route.path, route.resource]),
);

/** Runs `work` as the function serving the API Gateway resource path (`/api/v1/tasks/{id}`), if any. */
export function asFunctionServing<T>(resourcePath: string, work: () => Promise<T>): Promise<T> {
  const resource = resourceByPath.get(resourcePath);
  return resource === undefined ? work() : runningFunction.run(resource, work);
}

const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

const itemsOf = (input: unknown): unknown[] => {
  if (typeof input !== 'object' || input === null || !('TransactItems' in input)) return [];
  return Array.isArray(input.TransactItems) ? input.TransactItems : [];
};

/** The IAM actions one SDK command needs: a transaction needs the action of each of its items. */
export function iamActionsOf(service: 'dynamodb' | 'states', commandName: string, input: unknown): string[] {
  const operation = commandName.replace(/Command$/, '');
  if (service === 'dynamodb' && (operation === 'TransactWriteItems' || operation === 'TransactGetItems')) {
    return itemsOf(input).flatMap((item) =>
      typeof item === 'object' && item !== null
        ? Object.keys(item).flatMap((kind) => TRANSACT_ITEM_ACTIONS[kind] ?? `dynamodb:${kind}?`)
        : [],
    );
  }
  return [`${service}:${operation}`];
}

class AccessDeniedException extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
}

function granted(resource: ApiResource, action: string): boolean {
  const access = RESOURCE_ACCESS[resource];
  const actions: readonly string[] = [...access.table, ...access.workflows];
  return actions.includes(action);
}

/** Every refusal so far: callApi turns one into a failed test that names the missing grant. */
export const refusedCalls: string[] = [];

/** Throws, inside asFunctionServing, when the serving function is not granted what the command needs. */
function refuseUngranted(
  service: 'dynamodb' | 'states',
  commandName: string | undefined,
  input: unknown,
): void {
  const resource = runningFunction.getStore();
  if (resource === undefined) return;
  const missing = iamActionsOf(service, commandName ?? '', input).filter(
    (action) => !granted(resource, action),
  );
  if (missing.length === 0) return;
  const message = `the ${resource} function is not granted ${missing.join(', ')} (${commandName})`;
  refusedCalls.push(message);
  throw new AccessDeniedException(message);
}

const MIDDLEWARE = { step: 'initialize', name: 'enforceFunctionGrants' } as const;

export function enforceDynamoDbGrants(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      refuseUngranted('dynamodb', context.commandName, args.input);
      return next(args);
    },
    MIDDLEWARE,
  );
}

export function enforceStepFunctionsGrants(client: SFNClient): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      refuseUngranted('states', context.commandName, args.input);
      return next(args);
    },
    MIDDLEWARE,
  );
}
