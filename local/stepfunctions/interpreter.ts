import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';
import type * as Interpreter from 'aws-local-stepfunctions';

/**
 * aws-local-stepfunctions, loaded with a fix to its intrinsic functions. Every module of the
 * stand-in takes the interpreter from here, never from the package itself.
 *
 * The bug (3.0.0): the interpreter never unescapes string literals of an intrinsic
 * (`'it\'s'`, `'\{\}'`); instead it removes every backslash from every string an intrinsic
 * returns. So `States.JsonToString` of a text holding a quote, a backslash or a newline is
 * no longer JSON (`{"a":"say "hi""}`), and `States.Format` / `States.ArrayGetItem` drop the
 * backslashes of the data they pass on. On AWS the escapes belong to the literals only and
 * results are left alone, which is what the patch below does:
 *  - literal arguments are unescaped (`\'`, `\{`, `\}`, `\\`; any `\x` stands for `x`);
 *  - results are returned as computed;
 *  - `States.Format` reads its literal template itself: `{}` is a placeholder, `\{` `\}` are
 *    braces, and the values are inserted as they are;
 *  - arguments are split by a tokenizer that knows quotes and escapes (the original counted
 *    parentheses inside literals and took `'\\'` for an escaped quote).
 * Further patches make the interpreter behave as Step Functions where the workflow relies on it:
 *  - the 256 KiB payload quota: a state whose input after Parameters, whose result or whose
 *    output is larger fails with States.DataLimitExceeded, which States.ALL and
 *    States.TaskFailed do not match (a Retry/Catch naming it does);
 *  - a caught error without a cause has no `Cause` (AWS leaves it out), and a TimeoutSeconds
 *    timeout (States.Timeout) has none, as on AWS.
 * Each patch must match the installed build exactly once; a new interpreter version fails
 * the stand-in's start with the name of the patch to review (test/unit/workflow's
 * `known interpreter quirk` test pins the upstream behaviour).
 */

interface SourcePatch {
  readonly name: string;
  readonly find: string;
  readonly replace: string;
}

const PATCHES: readonly SourcePatch[] = [
  {
    name: 'intrinsic argument tokenizer',
    find: String.raw`  let apostropheCount = 0;
  for (let i = 0; i < funcArgs.length; i++) {
    const char = funcArgs[i];
    if (char === "(") {
      parensCount++;
    } else if (char === ")") {
      parensCount--;
    }
    if (char === "'" && partialArg[partialArg.length - 1] !== "\\") {
      if (apostropheCount === 1) {
        apostropheCount--;
      } else {
        apostropheCount++;
      }
    }
    if (char === "," && parensCount === 0 && apostropheCount === 0 || i === funcArgs.length - 1) {
      if (i === funcArgs.length - 1) partialArg += char;
      partialArg = partialArg.trim();
      if (partialArg.startsWith("States")) {
        const evaluatedNestedFunction = evaluateIntrinsicFunction(partialArg, input, context);
        splitArgs.push(JSON.stringify(evaluatedNestedFunction));
      } else {
        splitArgs.push(partialArg);
      }
      partialArg = "";
    } else {
      partialArg += char;
    }
  }
  return functions[funcName].call(input, context, ...splitArgs);`,
    replace: String.raw`  let quoted = false;
  const pushArg = () => {
    const arg = partialArg.trim();
    partialArg = "";
    if (arg.startsWith("States")) {
      splitArgs.push(JSON.stringify(evaluateIntrinsicFunction(arg, input, context)));
    } else {
      splitArgs.push(arg);
    }
  };
  for (let i = 0; i < funcArgs.length; i++) {
    const char = funcArgs[i];
    if (quoted) {
      partialArg += char;
      if (char === "\\" && i + 1 < funcArgs.length) {
        i++;
        partialArg += funcArgs[i];
      } else if (char === "'") {
        quoted = false;
      }
      continue;
    }
    if (char === "'") quoted = true;
    else if (char === "(") parensCount++;
    else if (char === ")") parensCount--;
    else if (char === "," && parensCount === 0) {
      pushArg();
      continue;
    }
    partialArg += char;
  }
  if (splitArgs.length > 0 || partialArg.trim() !== "") pushArg();
  return functions[funcName].call(input, context, ...splitArgs);`,
  },
  {
    name: 'literal arguments unescaped, results untouched',
    find: `    if (arg[0] === "'") {
      const lastSingleQuote = arg.lastIndexOf("'");
      return arg.slice(1, lastSingleQuote);
    }`,
    replace: String.raw`    if (arg[0] === "'") {
      const lastSingleQuote = arg.lastIndexOf("'");
      return arg.slice(1, lastSingleQuote).replace(/\\([\s\S])/g, "$1");
    }`,
  },
  {
    name: 'intrinsic results returned as computed',
    find: String.raw`    let result = this.execute(...parsedArgs);
    if (typeof result === "string") {
      result = result.replaceAll("\\", "");
    }
    return result;`,
    replace: '    return this.execute(...parsedArgs);',
  },
  {
    name: 'States.Format reads its literal template',
    find: String.raw`  execute(templateStr, ...placeholderValues) {
    const placeholdersNumber = templateStr.match(/\{\}/g)?.length ?? 0;`,
    replace: String.raw`  // Replaces BaseIntrinsicFunction.call: the template's escapes must be read before
  // unescaping, to tell an escaped brace from a placeholder (execute is no longer used).
  call(input, context, ...args) {
    const parsedArgs = parseArguments(input, context, ...args);
    validateArguments(this.funcDefinition, ...parsedArgs);
    const [rawTemplate = "", ...rawValues] = args;
    const values = parsedArgs.slice(1);
    const literal = rawTemplate[0] === "'";
    const template = literal ? rawTemplate.slice(1, rawTemplate.lastIndexOf("'")) : parsedArgs[0];
    const token = literal ? /\\([\s\S])|\{\}/g : /\{\}/g;
    const placeholders = [...template.matchAll(token)].filter((match) => match[1] === void 0).length;
    if (placeholders !== rawValues.length) {
      throw new StatesRuntimeError("Number of arguments in States.Format do not match the occurrences of {}");
    }
    let next = 0;
    return template.replace(token, (match, escaped) => escaped !== void 0 ? escaped : String(values[next++]));
  }
  execute(templateStr, ...placeholderValues) {
    const placeholdersNumber = templateStr.match(/\{\}/g)?.length ?? 0;`,
  },
  {
    name: 'state data limit helpers',
    find: 'function processResultPath(path, rawInput, result) {',
    replace: String.raw`// Step Functions' payload quota: 256 KiB of UTF-8 JSON per state input, result and output.
const STATES_DATA_LIMIT_BYTES = 262144;
var StatesDataLimitExceededError = class extends Error {
  constructor(what) {
    super("The state's " + what + " exceeds the maximum number of bytes service limit (" + STATES_DATA_LIMIT_BYTES + ").");
    this.name = "States.DataLimitExceeded";
  }
};
function withinDataLimit(value, what) {
  if (value !== void 0 && Buffer.byteLength(JSON.stringify(value), "utf8") > STATES_DATA_LIMIT_BYTES) {
    throw new StatesDataLimitExceededError(what);
  }
  return value;
}
// Neither States.ALL nor States.TaskFailed matches it; naming it does.
const isDataLimitError = (error) => error.name === "States.DataLimitExceeded";
function processResultPath(path, rawInput, result) {`,
  },
  {
    name: 'state input after Parameters within the data limit',
    find: '      const processedInput = this.processInput(input, context);',
    replace:
      '      const processedInput = withinDataLimit(this.processInput(input, context), "input after Parameters");',
  },
  {
    name: 'state result and output within the data limit',
    find: '      const processedResult = this.processResult(currResult, rawInput, context);',
    replace: `      withinDataLimit(currResult, "result");
      const processedResult = withinDataLimit(this.processResult(currResult, rawInput, context), "output");`,
  },
  {
    name: 'retrier wildcards skip States.DataLimitExceeded',
    find: String.raw`        const isErrorWildcard = retrierError === WILDCARD_ERROR;
        const isErrorTaskWildcard = retrierError === TASK_STATE_WILDCARD_ERROR && this.stateDefinition.Type === "Task" && !(error instanceof StatesTimeoutError);`,
    replace: String.raw`        const isErrorWildcard = retrierError === WILDCARD_ERROR && !isDataLimitError(error);
        const isErrorTaskWildcard = retrierError === TASK_STATE_WILDCARD_ERROR && this.stateDefinition.Type === "Task" && !(error instanceof StatesTimeoutError) && !isDataLimitError(error);`,
  },
  {
    name: 'catcher wildcards skip States.DataLimitExceeded',
    find: String.raw`        const isErrorWildcard = catcherError === WILDCARD_ERROR;
        const isErrorTaskWildcard = catcherError === TASK_STATE_WILDCARD_ERROR && this.stateDefinition.Type === "Task" && !(error instanceof StatesTimeoutError);`,
    replace: String.raw`        const isErrorWildcard = catcherError === WILDCARD_ERROR && !isDataLimitError(error);
        const isErrorTaskWildcard = catcherError === TASK_STATE_WILDCARD_ERROR && this.stateDefinition.Type === "Task" && !(error instanceof StatesTimeoutError) && !isDataLimitError(error);`,
  },
  {
    name: 'a caught error without a cause has no Cause',
    find: String.raw`            Error: error.name,
            Cause: error.message`,
    replace: String.raw`            Error: error.name,
            ...error.message === "" ? {} : { Cause: error.message }`,
  },
  {
    name: 'States.Timeout comes without a cause',
    find: 'super("States.Timeout");',
    replace: 'super("");',
  },
];

/** Applies every patch, each exactly once, or says which one no longer fits. */

export function patchInterpreterSource(source: string, file: string): string {
  let patched = source;
  for (const patch of PATCHES) {
    const first = patched.indexOf(patch.find);
    if (first < 0 || patched.indexOf(patch.find, first + 1) >= 0) {
      throw new Error(
        `local/stepfunctions/interpreter.ts: patch '${patch.name}' does not match ${file} exactly once; ` +
          'aws-local-stepfunctions changed, review the patch',
      );
    }
    patched = patched.slice(0, first) + patch.replace + patched.slice(first + patch.find.length);
  }
  return patched;
}

type InterpreterModule = typeof Interpreter;

/** The package's CommonJS build, patched, evaluated with a `require` rooted at its own folder. */
function loadPatchedInterpreter(): InterpreterModule {
  const file = createRequire(import.meta.url).resolve('aws-local-stepfunctions');
  const source = patchInterpreterSource(readFileSync(file, 'utf8'), file);
  const cjsModule = { exports: {} };
  const factory = compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], {
    filename: file,
  });
  factory(cjsModule.exports, createRequire(file), cjsModule, file, dirname(file));
  return cjsModule.exports as InterpreterModule;
}

const interpreter = loadPatchedInterpreter();

export const { StateMachine, ExecutionError, ExecutionTimeoutError, ExecutionAbortedError } = interpreter;
export type StateMachine = Interpreter.StateMachine;
export type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';
