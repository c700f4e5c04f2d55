import { type CounterChange, counterChanges, type FilterValues } from './counters';
import { filterPartition, STATUS_INDEX } from './keys';

/**
 * One status change of a deployment or a task, written the same way by the repositories
 * (SDK values) and by the compiled workflow (ASL values): the item's `status`, its status
 * index partition and `updated_at` move together, only from the status the writer read,
 * and the list counters move in the same transaction (counters.ts).
 */

export type LifecycleStatus = 'pending' | 'running' | 'success' | 'failed';
export type StatusEntity = 'TASK' | 'DEPLOYMENT';

export interface StatusTransition {
  readonly entity: StatusEntity;
  readonly from: LifecycleStatus;
  readonly to: LifecycleStatus;
}

export interface TransitionExpression {
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  /**
   * The expression's fixed string values. The caller adds `:now` (the timestamp) and the
   * values its own `set`/`add` clauses name, in its own encoding.
   */
  readonly literals: Record<string, string>;
}

export interface TransitionClauses {
  /** further `SET <attribute> = <value expression>`; `#<attribute>` names any attribute set here */
  readonly set?: Readonly<Record<string, string>>;
  /** `ADD <attribute> <value>` */
  readonly add?: Readonly<Record<string, string>>;
  /** `REMOVE <attribute>` */
  readonly remove?: readonly string[];
  /** more that must hold, ANDed with the status condition (attributes as `#<attribute>`) */
  readonly condition?: string;
  /** attribute names the extra condition uses */
  readonly names?: readonly string[];
}

/**
 * The UpdateItem expression of a transition. Every attribute goes through a `#name` alias
 * (`status` and `result` are reserved words).
 */
export function transitionExpression(
  transition: StatusTransition,
  clauses: TransitionClauses = {},
): TransitionExpression {
  const names: Record<string, string> = {};
  const alias = (attribute: string): string => {
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };
  const set: Record<string, string> = {
    status: ':status',
    [STATUS_INDEX.partitionKey]: ':status_partition',
    updated_at: ':now',
    ...clauses.set,
  };
  const setClause = Object.entries(set)
    .map(([attribute, value]) => `${alias(attribute)} = ${value}`)
    .join(', ');
  const addClause = Object.entries(clauses.add ?? {})
    .map(([attribute, value]) => `${alias(attribute)} ${value}`)
    .join(', ');
  const removeClause = (clauses.remove ?? []).map(alias).join(', ');
  for (const attribute of clauses.names ?? []) alias(attribute);
  alias('status');
  const statusCondition = '#status = :from_status';
  return {
    UpdateExpression: [
      `SET ${setClause}`,
      addClause ? `ADD ${addClause}` : '',
      removeClause ? `REMOVE ${removeClause}` : '',
    ]
      .filter(Boolean)
      .join(' '),
    ConditionExpression: clauses.condition
      ? `${statusCondition} AND (${clauses.condition})`
      : statusCondition,
    ExpressionAttributeNames: names,
    literals: {
      ':status': transition.to,
      ':status_partition': filterPartition(transition.entity, 'status', transition.to),
      ':from_status': transition.from,
    },
  };
}

/**
 * The counter changes of a transition, given the item's other filter values (a task's
 * `type`; a deployment's `environment_id` and `version_id`).
 */
export function transitionCounterChanges(
  transition: StatusTransition,
  values: FilterValues,
  count = 1,
): CounterChange[] {
  return counterChanges(
    transition.entity,
    { ...values, status: transition.from },
    { ...values, status: transition.to },
    count,
  );
}
