import {
  isJsonObject,
  type JsonValue,
  type StateMachineDefinition,
  SUBSTITUTION_KEYS,
  TABLE_NAME_PLACEHOLDER,
  TASK_QUEUE_URL_PLACEHOLDER,
} from './asl';

export interface DefinitionValues {
  readonly tableName: string;
  readonly taskQueueUrl: string;
}

/** CDK's `definitionSubstitutions` for a compiled definition. */
export const definitionSubstitutions = (values: DefinitionValues): Record<string, string> => ({
  [SUBSTITUTION_KEYS.tableName]: values.tableName,
  [SUBSTITUTION_KEYS.taskQueueUrl]: values.taskQueueUrl,
});

function substitute(value: JsonValue, replace: (text: string) => string): JsonValue {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((item) => substitute(item, replace));
  if (isJsonObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, replace)]));
  }
  return value;
}

/**
 * The definition as the local runtime registers it: the placeholders replaced the way
 * CDK's definitionSubstitutions does on AWS. Values are substituted inside the JSON
 * strings before serialising, so they need no escaping.
 */
export function renderDefinition(definition: StateMachineDefinition, values: DefinitionValues): string {
  const replace = (text: string) =>
    text
      .replaceAll(TABLE_NAME_PLACEHOLDER, values.tableName)
      .replaceAll(TASK_QUEUE_URL_PLACEHOLDER, values.taskQueueUrl);
  return JSON.stringify(substitute(definition, replace));
}
