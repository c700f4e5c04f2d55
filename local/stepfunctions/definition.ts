import { sfnErrors } from './errors';
import { parseTaskResource, SUPPORTED_RESOURCES, type TaskResource } from './integrations/resources';
import { StateMachine, type StateMachineDefinition } from './interpreter';
import { isJsonObject, type JsonObject, type JsonValue, tryParseJson } from './json';

/** What the stand-in needs to know about one Task state to run its integration. */
export interface TaskStateInfo {
  readonly name: string;
  readonly resource: TaskResource;
  readonly heartbeatSeconds: number | undefined;
  /** Static `TimeoutSeconds` only; `TimeoutSecondsPath` is left to the interpreter. */
  readonly timeoutSeconds: number | undefined;
}

export interface CompiledDefinition {
  /** The definition handed to the interpreter, rewritten as described further down. */
  readonly runnable: StateMachineDefinition;
  readonly taskStates: ReadonlyMap<string, TaskStateInfo>;
  /** Every state's enclosing Parallel/Map states, outermost first. */
  readonly enclosingStates: ReadonlyMap<string, readonly string[]>;
}

/**
 * The interpreter applies a 60 s default to Task states without `TimeoutSeconds`, where
 * AWS has none (a deploy agent may well take longer). We give it the longest delay
 * `setTimeout` can hold (2^31-1 ms) instead.
 */
export const NO_TASK_TIMEOUT_SECONDS = Math.floor(2_147_483_647 / 1000);

/** Context fields the interpreter overwrites in Parallel/Map branches; see `contextObjectFor`. */
export const ROOT_INPUT_FIELD = 'RootInput';
export const ROOT_START_TIME_FIELD = 'RootStartTime';

export function compileDefinition(source: string): CompiledDefinition {
  const parsed = tryParseJson(source);
  if (!parsed.ok || !isJsonObject(parsed.value))
    throw sfnErrors.invalidDefinition('definition is not a JSON object');
  const definition = parsed.value;
  validateWithInterpreter(definition);

  const taskStates = new Map<string, TaskStateInfo>();
  const enclosingStates = new Map<string, readonly string[]>();
  for (const { name, state, enclosing } of walkStates(definition, [])) {
    if (enclosingStates.has(name)) throw sfnErrors.invalidDefinition(`duplicate state name '${name}'`);
    enclosingStates.set(name, enclosing);
    if (state.QueryLanguage === 'JSONata')
      throw sfnErrors.invalidDefinition(`state '${name}': JSONata is not supported by the local stand-in`);
    // asl-validator accepts variables, but the interpreter cannot resolve `$name` paths.
    if (state.Assign !== undefined)
      throw sfnErrors.invalidDefinition(
        `state '${name}': variables (Assign) are not supported by the local stand-in`,
      );
    if (state.Type === 'Task') taskStates.set(name, taskStateInfo(name, state));
  }
  if (definition.QueryLanguage === 'JSONata')
    throw sfnErrors.invalidDefinition('JSONata is not supported by the local stand-in');

  return {
    // Checked by asl-validator above; the interpreter's type is the ASL shape itself.
    runnable: rewriteMachine(definition) as unknown as StateMachineDefinition,
    taskStates,
    enclosingStates,
  };
}

function validateWithInterpreter(definition: JsonObject): void {
  try {
    // The constructor runs asl-validator (schema, JSONPaths, ARNs, reachability).
    new StateMachine(definition as unknown as StateMachineDefinition);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw sfnErrors.invalidDefinition(message.replace(/\s+/g, ' ').trim());
  }
}

function taskStateInfo(name: string, state: JsonObject): TaskStateInfo {
  const resourceArn = typeof state.Resource === 'string' ? state.Resource : '';
  const resource = parseTaskResource(resourceArn);
  if (resource === undefined) {
    throw sfnErrors.invalidDefinition(
      `state '${name}': resource '${resourceArn}' is not supported by the local stand-in (supported: ${SUPPORTED_RESOURCES.join(', ')})`,
    );
  }
  // Our integrations only see the effective Parameters, not the state input a *Path
  // would be read from, so refuse rather than silently ignore it.
  if (state.HeartbeatSecondsPath !== undefined)
    throw sfnErrors.invalidDefinition(
      `state '${name}': HeartbeatSecondsPath is not supported by the local stand-in`,
    );
  return {
    name,
    resource,
    heartbeatSeconds: typeof state.HeartbeatSeconds === 'number' ? state.HeartbeatSeconds : undefined,
    timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined,
  };
}

interface WalkedState {
  readonly name: string;
  readonly state: JsonObject;
  readonly enclosing: readonly string[];
}

function* walkStates(machine: JsonObject, enclosing: readonly string[]): Generator<WalkedState> {
  const states = machine.States;
  if (!isJsonObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isJsonObject(state)) continue;
    yield { name, state, enclosing };
    for (const child of childMachines(state)) yield* walkStates(child, [...enclosing, name]);
  }
}

function childMachines(state: JsonObject): JsonObject[] {
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) return state.Branches.filter(isJsonObject);
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    return isJsonObject(processor) ? [processor] : [];
  }
  return [];
}

// ---------------------------------------------------------------------------------------
// Rewriting for the interpreter. It evaluates `$$` against one context object per
// (sub-)run, so three things AWS gives per state or per execution need help:
//  - `$$.State.Name` is replaced by the literal name of the state it appears in;
//  - `$$.Execution.Input` / `StartTime` inside Parallel branches and Map iterations would
//    be the branch's input and start; they are redirected to fields the stand-in fills
//    with the execution's own values;
//  - Task states without a timeout get `NO_TASK_TIMEOUT_SECONDS` (see there);
//  - the interpreter's States.JsonMerge merges into its first argument in place, which
//    can be the state input or the context object (`$$.Execution.Input.config`), so every
//    later state would see the merged object; it is handed a copy instead.
// Only JSONPath positions are touched (`*.$` values, `*Path` fields, `Variable`), never
// literal data such as a Pass state's `Result`.
// ---------------------------------------------------------------------------------------

const NESTED_OR_LITERAL = new Set(['Branches', 'Iterator', 'ItemProcessor', 'Result', 'Comment']);
const EXECUTION_FIELD = /\$\$\.Execution\.(Input|StartTime)(?![\w$])/g;
const STATE_NAME = /\$\$\.State\.Name(?![\w$])/g;

function rewriteMachine(machine: JsonObject): JsonObject {
  const states = isJsonObject(machine.States) ? machine.States : {};
  return {
    ...machine,
    States: Object.fromEntries(
      Object.entries(states).map(([name, state]) => [
        name,
        isJsonObject(state) ? rewriteState(name, state) : state,
      ]),
    ),
  };
}

function rewriteState(name: string, state: JsonObject): JsonObject {
  const literal = Object.fromEntries(Object.entries(state).filter(([key]) => NESTED_OR_LITERAL.has(key)));
  const out: JsonObject = { ...literal, ...rewriteObject(omit(state, NESTED_OR_LITERAL), name) };
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
    out.Branches = state.Branches.map((branch) => (isJsonObject(branch) ? rewriteMachine(branch) : branch));
  }
  for (const key of ['ItemProcessor', 'Iterator'] as const) {
    const processor = state[key];
    if (state.Type === 'Map' && isJsonObject(processor)) out[key] = rewriteMachine(processor);
  }
  if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
    out.TimeoutSeconds = NO_TASK_TIMEOUT_SECONDS;
  }
  return out;
}

function rewriteObject(object: JsonObject, stateName: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      const path = copyJsonMergeTargets(redirectExecutionFields(value));
      if (path === '$$.State.Name') out[key.slice(0, -2)] = stateName;
      else out[key] = path.replace(STATE_NAME, intrinsicStringLiteral(stateName));
    } else if (typeof value === 'string') {
      out[key] = isPathField(key) ? redirectExecutionFields(value) : value;
    } else {
      out[key] = rewriteValue(value, stateName);
    }
  }
  return out;
}

function rewriteValue(value: JsonValue, stateName: string): JsonValue {
  if (Array.isArray(value)) return value.map((item) => rewriteValue(item, stateName));
  if (isJsonObject(value)) return rewriteObject(value, stateName);
  return value;
}

function isPathField(key: string): boolean {
  return key === 'Variable' || (key.endsWith('Path') && key !== 'ResultPath');
}

function redirectExecutionFields(path: string): string {
  return path.replace(EXECUTION_FIELD, (_match, field: string) =>
    field === 'Input' ? `$$.Execution.${ROOT_INPUT_FIELD}` : `$$.Execution.${ROOT_START_TIME_FIELD}`,
  );
}

const JSON_MERGE = 'States.JsonMerge(';

/** `States.JsonMerge(a, b, deep)` → `States.JsonMerge(<copy of a>, b, deep)`, nested ones too. */
function copyJsonMergeTargets(expression: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const at = expression.indexOf(JSON_MERGE, from);
    if (at < 0) return out + expression.slice(from);
    const argumentStart = at + JSON_MERGE.length;
    const argumentEnd = endOfFirstArgument(expression, argumentStart);
    if (argumentEnd === undefined) return out + expression.slice(from);
    const target = copyJsonMergeTargets(expression.slice(argumentStart, argumentEnd).trim());
    // A JSON round trip through two intrinsics: the nested results reach JsonMerge re-parsed.
    out += `${expression.slice(from, argumentStart)}States.StringToJson(States.JsonToString(${target}))`;
    from = argumentEnd;
  }
}

/** Index of the comma ending the intrinsic argument that starts at `start`. */
function endOfFirstArgument(text: string, start: number): number | undefined {
  let depth = 0;
  let quoted = false;
  for (let index = start; index < text.length; index += 1) {
    const character = text[index];
    if (character === '\\') index += 1;
    else if (character === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (character === '(') depth += 1;
    else if (character === ')') {
      if (depth === 0) return undefined;
      depth -= 1;
    } else if (character === ',' && depth === 0) return index;
  }
  return undefined;
}

/** A string argument of an intrinsic function: quoted, with `'{}\` escaped. */
function intrinsicStringLiteral(text: string): string {
  return `'${text.replace(/[\\'{}]/g, (character) => `\\${character}`)}'`;
}

function omit(object: JsonObject, keys: ReadonlySet<string>): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.has(key)));
}
