/**
 * The few Amazon States Language shapes the compiler produces. A definition is plain JSON
 * (JSONPath query language only: the local interpreter runs nothing else).
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** One state; `Type` is the only field every state has. */
export interface AslState extends JsonObject {
  Type: 'Task' | 'Pass' | 'Choice' | 'Parallel' | 'Map' | 'Succeed' | 'Fail' | 'Wait';
}

export type AslStates = Record<string, AslState>;

/** A state machine, or the body of a Parallel branch / Map item processor. */
export interface StateMachineDefinition extends JsonObject {
  StartAt: string;
  States: AslStates;
}

/** A retrier of a state's `Retry` list. */
export interface Retrier extends JsonObject {
  ErrorEquals: string[];
}

/** A catcher of a state's `Catch` list. */
export interface Catcher extends JsonObject {
  ErrorEquals: string[];
  Next: string;
}

/**
 * Names of the values substituted into the definition: CDK's `definitionSubstitutions`
 * keys, and the local runtime replaces the same `${Name}` strings (renderDefinition).
 */
export const SUBSTITUTION_KEYS = { tableName: 'TableName', taskQueueUrl: 'TaskQueueUrl' } as const;
export const TABLE_NAME_PLACEHOLDER = `\${${SUBSTITUTION_KEYS.tableName}}`;
export const TASK_QUEUE_URL_PLACEHOLDER = `\${${SUBSTITUTION_KEYS.taskQueueUrl}}`;

export const isJsonObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
