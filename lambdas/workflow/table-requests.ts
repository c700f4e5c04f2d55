import {
  type EntityName,
  entityKey,
  environmentLockKey,
  FILTER_SLOTS,
  filterPartition,
  slotIndex,
} from '../store/keys';
import { type JsonObject, TABLE_NAME_PLACEHOLDER } from './asl';

/**
 * DynamoDB request Parameters for the optimized integrations (`arn:aws:states:::dynamodb:*`):
 * AWS's JSON request shape, with values read from the state input through `.$` fields.
 * Keys and index partitions come from store/keys.ts so the workflow writes exactly what
 * the repositories read.
 */

export type WorkflowStatus = 'pending' | 'running' | 'success' | 'failed';
type StatusEntity = Extract<EntityName, 'DEPLOYMENT' | 'TASK'>;

/**
 * The state's entry time as the service's timestamps: UTC, second precision, `Z`.
 * `EnteredTime` looks like `2024-10-24T10:00:00.123Z`; a whole second may be printed
 * without a fraction (`...:00Z`), so we cut at '.' and then at 'Z' and add the 'Z' back.
 * Single-character separators split the same on AWS (splits on each character of the
 * separator) and in the local interpreter (splits on the whole separator).
 */
export const NOW_TIMESTAMP =
  "States.Format('{}Z', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($$.State.EnteredTime, '.'), 0), 'Z'), 0))";

/** The GSI partition attribute that carries an entity's status (gsi3pk for deployments and tasks). */
function statusIndexAttribute(entity: StatusEntity): string {
  const slots: readonly string[] = FILTER_SLOTS[entity];
  const index = slotIndex(slots.indexOf('status'));
  if (index === undefined) throw new Error(`${entity} has no status index`);
  return index.partitionKey;
}

/**
 * `pk`/`sk` of an item whose id is read at `idPath`. The key is built by store/keys.ts
 * with `{}` as the id, which becomes the States.Format template (the entity prefixes hold
 * none of the characters States.Format reserves).
 */
function keyAt(key: { pk: string; sk: string }, idPath: string): JsonObject {
  return { pk: { 'S.$': `States.Format('${key.pk}', ${idPath})` }, sk: { S: key.sk } };
}

export const entityKeyAt = (entity: StatusEntity, idPath: string): JsonObject =>
  keyAt(entityKey(entity, '{}'), idPath);

export const environmentLockKeyAt = (idPath: string): JsonObject => keyAt(environmentLockKey('{}'), idPath);

export interface StatusUpdate {
  readonly entity: StatusEntity;
  /** where the state input holds the item's id */
  readonly idPath: string;
  readonly status: WorkflowStatus;
  /** the update applies only while the item is in one of these statuses */
  readonly from: readonly WorkflowStatus[];
  /**
   * further `SET <attribute> = <value expression>` clauses; `:now` is the state's entry
   * time, and `#<attribute>` names any attribute set here (e.g. `if_not_exists(#started_at, :now)`)
   */
  readonly set?: Readonly<Record<string, string>>;
  /** `ADD <attribute> <value>` clauses */
  readonly add?: Readonly<Record<string, string>>;
  /** values the `set`/`add` expressions use, besides `:now` */
  readonly values?: Readonly<Record<string, JsonObject>>;
  readonly returnValues?: 'NONE' | 'UPDATED_NEW';
}

/**
 * An UpdateItem that moves `status` (with its index partition and `updated_at`) under a
 * condition on the current status, so a late or repeated write cannot undo a newer one.
 * Every attribute goes through a `#name` alias: `status` and `result` are reserved words.
 */
export function statusUpdateRequest(update: StatusUpdate): JsonObject {
  const statusIndex = statusIndexAttribute(update.entity);
  const set: Record<string, string> = {
    status: ':status',
    [statusIndex]: ':status_partition',
    updated_at: ':now',
    ...update.set,
  };
  const add = update.add ?? {};
  const names: Record<string, string> = {};
  const alias = (attribute: string): string => {
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };
  const setClause = Object.entries(set)
    .map(([attribute, value]) => `${alias(attribute)} = ${value}`)
    .join(', ');
  const addClause = Object.entries(add)
    .map(([attribute, value]) => `${alias(attribute)} ${value}`)
    .join(', ');
  const expected = update.from.map((_status, index) => `:from_${index}`);
  const condition =
    expected.length === 1 ? `#status = ${expected[0]}` : `#status IN (${expected.join(', ')})`;

  const values: Record<string, JsonObject> = {
    ':status': { S: update.status },
    ':status_partition': { S: filterPartition(update.entity, 'status', update.status) },
    ':now': { 'S.$': NOW_TIMESTAMP },
    ...update.values,
  };
  update.from.forEach((status, index) => {
    values[`:from_${index}`] = { S: status };
  });

  return {
    TableName: TABLE_NAME_PLACEHOLDER,
    Key: entityKeyAt(update.entity, update.idPath),
    UpdateExpression: `SET ${setClause}${addClause ? ` ADD ${addClause}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: update.returnValues ?? 'NONE',
  };
}

/** A strongly consistent read of a task's status (the resume check). */
export function readTaskStatusRequest(taskIdPath: string): JsonObject {
  return {
    TableName: TABLE_NAME_PLACEHOLDER,
    Key: entityKeyAt('TASK', taskIdPath),
    ProjectionExpression: '#status',
    ExpressionAttributeNames: { '#status': 'status' },
    ConsistentRead: true,
  };
}

/** Deletes the environment lock, but only while this deployment holds it. */
export function releaseLockRequest(environmentIdPath: string, deploymentIdPath: string): JsonObject {
  return {
    TableName: TABLE_NAME_PLACEHOLDER,
    Key: environmentLockKeyAt(environmentIdPath),
    ConditionExpression: '#deployment_id = :deployment_id',
    ExpressionAttributeNames: { '#deployment_id': 'deployment_id' },
    ExpressionAttributeValues: { ':deployment_id': { 'S.$': deploymentIdPath } },
  };
}
