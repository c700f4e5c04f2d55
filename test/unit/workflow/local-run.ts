import {
  ExecutionError,
  type StateMachineDefinition as InterpreterDefinition,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
import { parseTaskMessage, type TaskMessageV1 } from '../../../lambdas/agent-protocol';
import { type JsonValue, renderDefinition, type StateMachineDefinition } from '../../../lambdas/workflow';

type JSONValue = Parameters<StateMachine['run']>[0];
type Handlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/**
 * Runs a compiled definition in aws-local-stepfunctions with every Task state answered by
 * in-memory fakes: a tiny DynamoDB that understands exactly the expression forms the
 * compiler writes, and an agent callback for the SQS dispatches. It proves that the
 * interpreter accepts the JSONPath and intrinsics we use; the real integrations are
 * exercised by the Step Functions stand-in's own tests.
 */

type AttributeValue = { S: string } | { N: string } | { BOOL: boolean } | { NULL: true };
export type Item = Record<string, AttributeValue>;

/** An AWS-style error as Step Functions' integrations raise it: `name` is what Retry/Catch match. */
export class AwsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const CONDITION_FAILED = () =>
  new AwsError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');

interface Request {
  Key?: Record<string, AttributeValue>;
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
  ReturnValues?: string;
  ProjectionExpression?: string;
}

const keyOf = (key: Record<string, AttributeValue> | undefined): string => {
  const pk = key?.pk;
  const sk = key?.sk;
  if (!pk || !sk || !('S' in pk) || !('S' in sk)) throw new Error(`bad key ${JSON.stringify(key)}`);
  return `${pk.S}|${sk.S}`;
};

const sameValue = (a: AttributeValue | undefined, b: AttributeValue | undefined) =>
  a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);

export class FakeTable {
  readonly items = new Map<string, Item>();

  put(item: Item): void {
    this.items.set(keyOf(item), structuredClone(item));
  }

  get(pk: string, sk: string): Item | undefined {
    return this.items.get(`${pk}|${sk}`);
  }

  private resolve(request: Request) {
    const name = (token: string) => request.ExpressionAttributeNames?.[token] ?? token;
    const value = (token: string) => {
      const found = request.ExpressionAttributeValues?.[token];
      if (!found) throw new Error(`no value ${token}`);
      return found;
    };
    return { name, value };
  }

  /**
   * The condition forms the compiler writes, ANDed: `#a = :v`, `#a = #b`, `size(#a) <= :n`,
   * `begins_with(#a, :prefix)` (parentheses around a group are ignored).
   */
  private conditionHolds(request: Request, item: Item | undefined): boolean {
    const condition = request.ConditionExpression;
    if (!condition) return true;
    const { name, value } = this.resolve(request);
    const operand = (token: string): AttributeValue | undefined =>
      token.startsWith(':') ? value(token) : item?.[name(token)];
    const text = (attribute: AttributeValue | undefined) =>
      attribute && 'S' in attribute ? attribute.S : undefined;
    const unwrapped = (term: string): string => {
      let text = term.trim().replace(/^\(+/, '');
      const count = (character: string) => text.split(character).length - 1;
      while (text.endsWith(')') && count(')') > count('(')) text = text.slice(0, -1);
      return text;
    };
    return condition
      .split(' AND ')
      .map(unwrapped)
      .every((term) => {
        const equals = /^(\S+) = (\S+)$/.exec(term);
        if (equals?.[1] && equals[2]) return sameValue(operand(equals[1]), operand(equals[2]));
        const size = /^size\((\S+)\) <= (\S+)$/.exec(term);
        if (size?.[1] && size[2]) {
          const found = text(operand(size[1]));
          const limit = operand(size[2]);
          return (
            found !== undefined &&
            limit !== undefined &&
            'N' in limit &&
            Buffer.byteLength(found) <= Number(limit.N)
          );
        }
        const beginsWith = /^begins_with\((\S+), (\S+)\)$/.exec(term);
        if (beginsWith?.[1] && beginsWith[2]) {
          const found = text(operand(beginsWith[1]));
          const prefix = text(operand(beginsWith[2]));
          return found !== undefined && prefix !== undefined && found.startsWith(prefix);
        }
        throw new Error(`condition form not supported by the fake: ${term}`);
      });
  }

  private checkCondition(request: Request, item: Item | undefined): void {
    if (!this.conditionHolds(request, item)) throw CONDITION_FAILED();
  }

  /** The item after `SET a = :v | b + :n | #other, … ADD a :n, … REMOVE a, …`. */
  private updated(request: Request, existing: Item | undefined): Item {
    const item: Item = structuredClone(existing ?? { ...(request.Key ?? {}) });
    const before = structuredClone(item);
    const { name, value } = this.resolve(request);
    const operand = (token: string): AttributeValue | undefined =>
      token.startsWith(':') ? value(token) : before[name(token)];
    const expression = request.UpdateExpression ?? '';
    const clauses = expression.split(/ (?=SET |ADD |REMOVE )/);
    for (const clause of clauses) {
      const [keyword = '', ...rest] = clause.split(' ');
      const body = rest.join(' ');
      for (const part of body.split(', ').filter(Boolean)) {
        if (keyword === 'SET') {
          const [left = '', right = ''] = part.split(' = ');
          const sum = /^(\S+) \+ (\S+)$/.exec(right);
          const attribute = name(left);
          if (sum?.[1] && sum[2]) {
            const a = operand(sum[1]);
            const b = operand(sum[2]);
            const number = (v: AttributeValue | undefined) => (v && 'N' in v ? Number(v.N) : Number.NaN);
            item[attribute] = { N: String(number(a) + number(b)) };
          } else {
            const next = operand(right);
            if (!next) throw new Error(`no value for ${right}`);
            item[attribute] = next;
          }
        } else if (keyword === 'ADD') {
          const [left = '', right = ''] = part.split(' ');
          const attribute = name(left);
          const current = item[attribute];
          const increment = value(right);
          const base = current && 'N' in current ? Number(current.N) : 0;
          item[attribute] = { N: String(base + ('N' in increment ? Number(increment.N) : 0)) };
        } else if (keyword === 'REMOVE') {
          delete item[name(part)];
        } else {
          throw new Error(`update form not supported by the fake: ${clause}`);
        }
      }
    }
    return item;
  }

  updateItem(request: Request): JsonValue {
    const key = keyOf(request.Key);
    const existing = this.items.get(key);
    this.checkCondition(request, existing);
    this.items.set(key, this.updated(request, existing));
    return {};
  }

  /** TransactWriteItems: every condition first; any failure cancels all, as DynamoDB reports it. */
  transactWriteItems(request: { TransactItems?: Array<{ Update?: Request; Delete?: Request }> }): JsonValue {
    const items = request.TransactItems ?? [];
    const reasons = items.map((item) => {
      const operation = item.Update ?? item.Delete;
      if (!operation) throw new Error('transaction item form not supported by the fake');
      return this.conditionHolds(operation, this.items.get(keyOf(operation.Key)))
        ? 'None'
        : 'ConditionalCheckFailed';
    });
    if (reasons.includes('ConditionalCheckFailed')) {
      throw new AwsError(
        'DynamoDb.TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.join(', ')}] (Service: DynamoDb, Status Code: 400, Request ID: fake)`,
      );
    }
    for (const item of items) {
      if (item.Update) {
        const key = keyOf(item.Update.Key);
        this.items.set(key, this.updated(item.Update, this.items.get(key)));
      } else if (item.Delete) {
        this.items.delete(keyOf(item.Delete.Key));
      }
    }
    return {};
  }

  getItem(request: Request): JsonValue {
    const item = this.items.get(keyOf(request.Key));
    if (!item) return {};
    const { name } = this.resolve(request);
    const projected = request.ProjectionExpression
      ? Object.fromEntries(
          request.ProjectionExpression.split(',').flatMap((token) => {
            const attribute = name(token.trim());
            const found = item[attribute];
            return found ? [[attribute, found]] : [];
          }),
        )
      : item;
    return { Item: projected };
  }

  deleteItem(request: Request): JsonValue {
    const key = keyOf(request.Key);
    this.checkCondition(request, this.items.get(key));
    this.items.delete(key);
    return {};
  }
}

/** What the fake agent does with a message: return the result, or throw (an AwsError-like failure). */
export type Agent = (
  message: TaskMessageV1,
) => Record<string, JsonValue> | Promise<Record<string, JsonValue>>;

export interface LocalRunOptions {
  readonly definition: StateMachineDefinition;
  readonly input: JsonValue;
  readonly table: FakeTable;
  readonly agent: Agent;
  /** replaces the handler of the named Task states (e.g. to inject a fault) */
  readonly override?: Record<string, (parameters: JsonValue) => JsonValue>;
  readonly enteredTime?: string;
}

export interface LocalRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: JSONValue;
  readonly error?: string;
  readonly cause?: string;
  /** every message sent to the agent, parsed as TaskMessageV1, in dispatch order */
  readonly messages: TaskMessageV1[];
  /**
   * every state entered, in order, from the interpreter's event log. It closes when the
   * execution ends and may miss late events of Parallel branches inside the Map.
   */
  readonly entered: string[];
  /** every Task state invocation, in order (exact, counted by the fakes themselves) */
  readonly invoked: string[];
}

function taskStatesOf(machine: StateMachineDefinition): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.Type === 'Task' && typeof state.Resource === 'string') found.push([name, state.Resource]);
    const nested = [
      ...(Array.isArray(state.Branches) ? state.Branches : []),
      ...(state.ItemProcessor ? [state.ItemProcessor] : []),
    ];
    for (const child of nested) found.push(...taskStatesOf(child as StateMachineDefinition));
  }
  return found;
}

export async function runLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const { table, agent } = options;
  const messages: TaskMessageV1[] = [];
  const entered: string[] = [];
  const invoked: string[] = [];
  const rendered = JSON.parse(
    renderDefinition(options.definition, {
      tableName: 'deploy-manager',
      taskQueueUrl: 'http://queue.local/tasks',
    }),
  ) as StateMachineDefinition;

  const handlers: Handlers = {};
  for (const [name, resource] of taskStatesOf(rendered)) {
    const injected = options.override?.[name];
    handlers[name] = async (input) => {
      invoked.push(name);
      const parameters = input as JsonValue;
      if (injected) return injected(parameters) as JSONValue;
      const request = parameters as Request & { MessageBody?: JsonValue };
      switch (resource) {
        case 'arn:aws:states:::dynamodb:updateItem':
          return table.updateItem(request) as JSONValue;
        case 'arn:aws:states:::dynamodb:getItem':
          return table.getItem(request) as JSONValue;
        case 'arn:aws:states:::dynamodb:deleteItem':
          return table.deleteItem(request) as JSONValue;
        case 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems':
          return table.transactWriteItems(
            parameters as Parameters<FakeTable['transactWriteItems']>[0],
          ) as JSONValue;
        case 'arn:aws:states:::sqs:sendMessage.waitForTaskToken': {
          // On AWS the JSON MessageBody reaches the queue serialised.
          const message = parseTaskMessage(JSON.stringify(request.MessageBody));
          messages.push(message);
          return (await agent(message)) as JSONValue;
        }
        default:
          throw new Error(`no fake for ${resource}`);
      }
    };
  }

  const enteredTime = options.enteredTime ?? '2024-10-24T10:00:00.123Z';
  // The interpreter's definition type is the ASL shape itself.
  const machine = new StateMachine(rendered as unknown as InterpreterDefinition);
  const execution = machine.run(options.input as JSONValue, {
    overrides: { taskResourceLocalHandlers: handlers },
    context: {
      Execution: {
        Id: 'arn:aws:states:us-east-1:1:execution:sm:dep',
        Input: options.input as JSONValue,
        StartTime: enteredTime,
      },
      State: { EnteredTime: enteredTime, Name: '' },
      Task: { Token: 'task-token-1' },
    },
  });
  const logging = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') entered.push(event.state.name);
    }
  })();
  try {
    const output = await execution.result;
    await logging;
    return { status: 'SUCCEEDED', output, messages, entered, invoked };
  } catch (error) {
    await logging;
    if (error instanceof ExecutionError && error.cause instanceof Error) {
      return {
        status: 'FAILED',
        error: error.cause.name,
        cause: error.cause.message,
        messages,
        entered,
        invoked,
      };
    }
    throw error;
  }
}
