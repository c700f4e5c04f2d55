import type { FilterValues } from '../store/counters';
import { counterKey, entityKey, environmentLockKey } from '../store/keys';
import {
  type StatusEntity,
  type StatusTransition,
  type TransitionClauses,
  transitionCounterChanges,
  transitionExpression,
} from '../store/status-transition';
import { type JsonObject, TABLE_NAME_PLACEHOLDER } from './asl';

/**
 * DynamoDB requests of the workflow's states, in AWS's JSON request shape (the Parameters
 * of `arn:aws:states:::dynamodb:*` and of `arn:aws:states:::aws-sdk:dynamodb:*`), with
 * values read from the state input through `.$` fields. Keys, index partitions, status
 * expressions and counters come from lambdas/store (keys.ts, status-transition.ts,
 * counters.ts), so the workflow writes exactly what the repositories write and read.
 */

/**
 * The state's entry time as the service's timestamps: UTC, second precision, `Z`.
 * `EnteredTime` looks like `2024-10-24T10:00:00.123Z`; a whole second may be printed
 * without a fraction (`...:00Z`), so we cut at '.' and then at 'Z' and add the 'Z' back.
 * Single-character separators split the same on AWS (splits on each character of the
 * separator) and in the local interpreter (splits on the whole separator).
 */
export const NOW_TIMESTAMP =
  "States.Format('{}Z', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($$.State.EnteredTime, '.'), 0), 'Z'), 0))";

/** A text with `'`, `{`, `}` and `\` escaped, for the template of States.Format. */
const formatLiteral = (text: string): string => text.replace(/[\\'{}]/g, (character) => `\\${character}`);

/**
 * A string AttributeValue built from a template whose `{}` stand for values read at
 * `paths` (in order). The template's other characters are taken literally.
 */
function formattedString(parts: readonly string[], paths: readonly string[]): JsonObject {
  if (paths.length === 0) return { S: parts.join('') };
  const template = parts.map(formatLiteral).join('{}');
  return { 'S.$': `States.Format('${template}', ${paths.join(', ')})` };
}

/** `pk`/`sk` of an item whose id is read at `idPath`. */
function keyAt(key: (id: string) => { pk: string; sk: string }, idPath: string): JsonObject {
  const marker = '\uE000';
  const { pk, sk } = key(marker);
  return { pk: formattedString(pk.split(marker), [idPath]), sk: { S: sk } };
}

export const entityKeyAt = (entity: StatusEntity, idPath: string): JsonObject =>
  keyAt((id) => entityKey(entity, id), idPath);

export const environmentLockKeyAt = (idPath: string): JsonObject => keyAt(environmentLockKey, idPath);

/** A filter value of the item whose status moves: fixed (a task's type) or read from the state. */
export type FilterSource = { readonly literal: string } | { readonly path: string };

/**
 * The counter updates (`ADD #count :delta`) of a transition, as TransactItems. Counters of
 * values read from the state (a deployment's environment and version) get their partition
 * through States.Format.
 */
export function counterUpdates(
  transition: StatusTransition,
  filters: Readonly<Record<string, FilterSource>>,
): JsonObject[] {
  // Each value read from the state is a marker in the partition, replaced by `{}` afterwards.
  const markers = new Map<string, string>();
  const values: Record<string, string> = {};
  for (const [attribute, source] of Object.entries(filters)) {
    if ('literal' in source) {
      values[attribute] = source.literal;
    } else {
      const marker = `\uE000${markers.size}\uE000`;
      markers.set(marker, source.path);
      values[attribute] = marker;
    }
  }
  const filterValues: FilterValues = values;
  return transitionCounterChanges(transition, filterValues).map(({ partition, delta }) => {
    const { pk, sk } = counterKey(partition);
    const parts = pk.split(/\uE000\d+\uE000/);
    const paths = [...pk.matchAll(/\uE000\d+\uE000/g)].map((match) => markers.get(match[0]) ?? '');
    return {
      Update: {
        TableName: TABLE_NAME_PLACEHOLDER,
        Key: { pk: formattedString(parts, paths), sk: { S: sk } },
        UpdateExpression: 'ADD #count :delta',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':delta': { N: String(delta) } },
      },
    };
  });
}

export interface ItemTransition {
  readonly transition: StatusTransition;
  /** where the state input holds the item's id */
  readonly idPath: string;
  /** further clauses (store/status-transition.ts); `:now` is the state's entry time */
  readonly clauses?: TransitionClauses;
  /** values the clauses use, besides `:now` */
  readonly values?: Readonly<Record<string, JsonObject>>;
}

/**
 * The item's own status update: TableName, Key and the expressions of transitionExpression,
 * which is also the UpdateItem request of the optimized integration.
 */
export function itemTransitionUpdate({ transition, idPath, clauses, values }: ItemTransition): JsonObject {
  const expression = transitionExpression(transition, clauses);
  const attributeValues: Record<string, JsonObject> = { ':now': { 'S.$': NOW_TIMESTAMP }, ...values };
  for (const [name, value] of Object.entries(expression.literals)) attributeValues[name] = { S: value };
  return {
    TableName: TABLE_NAME_PLACEHOLDER,
    Key: entityKeyAt(transition.entity, idPath),
    UpdateExpression: expression.UpdateExpression,
    ConditionExpression: expression.ConditionExpression,
    ExpressionAttributeNames: expression.ExpressionAttributeNames,
    ExpressionAttributeValues: attributeValues,
  };
}

/**
 * The TransactItems of a status change: the item's update first (so the first cancellation
 * reason is its condition's), then its counters, then any `extra` items.
 */
export function transitionItems(
  item: ItemTransition,
  filters: Readonly<Record<string, FilterSource>>,
  extra: readonly JsonObject[] = [],
): JsonObject[] {
  return [{ Update: itemTransitionUpdate(item) }, ...counterUpdates(item.transition, filters), ...extra];
}

/** Parameters of `aws-sdk:dynamodb:transactWriteItems`. */
export const transactWrite = (items: readonly JsonObject[]): JsonObject => ({ TransactItems: [...items] });

/** A deployment's counted filters besides its status, read from the execution input. */
export const deploymentFilters = (
  environmentIdPath: string,
  versionIdPath: string,
): Record<string, FilterSource> => ({
  environment_id: { path: environmentIdPath },
  version_id: { path: versionIdPath },
});

/** A task's counted filters besides its status: its step's type, fixed at compile time. */
export const taskFilters = (type: string): Record<string, FilterSource> => ({ type: { literal: type } });

/** A strongly consistent read of a task's status and attempt (the start check). */
export function readTaskRequest(taskIdPath: string): JsonObject {
  return {
    TableName: TABLE_NAME_PLACEHOLDER,
    Key: entityKeyAt('TASK', taskIdPath),
    ProjectionExpression: '#status, #attempt',
    ExpressionAttributeNames: { '#status': 'status', '#attempt': 'attempt' },
    ConsistentRead: true,
  };
}

/** The condition and values of a lock release: only while this deployment holds it. */
function lockReleaseMembers(environmentIdPath: string, deploymentIdPath: string): JsonObject {
  return {
    TableName: TABLE_NAME_PLACEHOLDER,
    Key: environmentLockKeyAt(environmentIdPath),
    ConditionExpression: '#deployment_id = :deployment_id',
    ExpressionAttributeNames: { '#deployment_id': 'deployment_id' },
    ExpressionAttributeValues: { ':deployment_id': { 'S.$': deploymentIdPath } },
  };
}

/** DeleteItem of the environment lock (optimized integration), only while this deployment holds it. */
export const releaseLockRequest = (environmentIdPath: string, deploymentIdPath: string): JsonObject =>
  lockReleaseMembers(environmentIdPath, deploymentIdPath);

/** The same release as a TransactItems entry. */
export const releaseLockItem = (environmentIdPath: string, deploymentIdPath: string): JsonObject => ({
  Delete: lockReleaseMembers(environmentIdPath, deploymentIdPath),
});
