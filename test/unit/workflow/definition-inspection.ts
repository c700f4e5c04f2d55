import { createRequire } from 'node:module';
import {
  type AslState,
  type JsonValue,
  type StateMachineDefinition,
  stepStateNames,
} from '../../../lambdas/workflow';

/** Reading compiled definitions in tests: validation, state walks, step order. */

interface AslValidation {
  readonly isValid: boolean;
  readonly errorsText: (separator?: string) => string;
}
type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => AslValidation;

// asl-validator ships CommonJS without type declarations.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/** asl-validator's complaints ('' when valid). It writes QueryLanguage into states: give it a copy. */
export function aslErrors(definition: StateMachineDefinition): string {
  const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
  return result.isValid ? '' : result.errorsText('\n');
}

export interface WalkedState {
  readonly name: string;
  readonly state: AslState;
  /** the Map/Parallel states around it, outermost first */
  readonly enclosing: readonly string[];
}

const asMachine = (value: JsonValue | undefined): StateMachineDefinition => value as StateMachineDefinition;

/** Every state at every depth (Parallel branches, Map item processors). */
export function allStates(machine: StateMachineDefinition, enclosing: readonly string[] = []): WalkedState[] {
  const found: WalkedState[] = [];
  for (const [name, state] of Object.entries(machine.States)) {
    found.push({ name, state, enclosing });
    const children =
      state.Type === 'Parallel' && Array.isArray(state.Branches)
        ? state.Branches
        : state.Type === 'Map'
          ? [state.ItemProcessor ?? state.Iterator]
          : [];
    for (const child of children) found.push(...allStates(asMachine(child), [...enclosing, name]));
  }
  return found;
}

export function itemProcessorOf(definition: StateMachineDefinition): StateMachineDefinition {
  const map = Object.values(definition.States).find((state) => state.Type === 'Map');
  if (!map) throw new Error('no Map state');
  return asMachine(map.ItemProcessor);
}

/**
 * The position at which each step is dispatched in one application's happy path: steps
 * of one Parallel share a position, and every dependency must sit at a lower one.
 */
export function dispatchPositions(definition: StateMachineDefinition): Map<string, number> {
  const processor = itemProcessorOf(definition);
  const positions = new Map<string, number>();
  let position = 0;
  let name: string | undefined = processor.StartAt;
  const dispatchedIn = (branch: StateMachineDefinition) =>
    Object.keys(branch.States).flatMap((state) => {
      const match = /^(.+)\.Dispatch$/.exec(state);
      return match?.[1] ? [match[1]] : [];
    });
  while (name !== undefined) {
    const state: AslState | undefined = processor.States[name];
    if (!state) throw new Error(`no state ${name}`);
    const dispatch = /^(.+)\.Dispatch$/.exec(name);
    if (dispatch?.[1]) positions.set(dispatch[1], position++);
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      for (const branch of state.Branches) {
        for (const stepId of dispatchedIn(asMachine(branch))) positions.set(stepId, position);
      }
      position++;
    }
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) name = undefined;
    else if (state.Type === 'Choice') name = typeof state.Default === 'string' ? state.Default : undefined;
    else name = typeof state.Next === 'string' ? state.Next : undefined;
  }
  return positions;
}

/** How many times each step's Dispatch state occurs in the whole definition. */
export function dispatchStateCounts(definition: StateMachineDefinition): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { name } of allStates(definition)) {
    const match = /^(.+)\.Dispatch$/.exec(name);
    if (match?.[1]) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  return counts;
}

/** Every string anywhere in the definition (for "no JSONata" style checks). */
export function allStrings(value: JsonValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [key, ...allStrings(item)]);
  }
  return [];
}

export const dispatchStateName = (stepId: string) => stepStateNames(stepId).dispatch;
