import { type AslState, isJsonObject, type JsonValue, type StateMachineDefinition } from './asl';

/**
 * State transitions (what Step Functions Standard bills) of the happy path: every Choice
 * takes its Default, every Task succeeds, every state entered counts once (Map and
 * Parallel states themselves included, as on AWS).
 */
export interface HappyPath {
  /** states entered outside the Map iterations, once per deployment */
  readonly deploymentStates: readonly string[];
  /** states entered by one application's iteration (Parallel branches included) */
  readonly applicationStates: readonly string[];
}

function machineOf(value: JsonValue | undefined): StateMachineDefinition {
  if (!isJsonObject(value) || typeof value.StartAt !== 'string' || !isJsonObject(value.States)) {
    throw new Error('not a state machine (StartAt and States expected)');
  }
  return value as StateMachineDefinition;
}

function walk(machine: StateMachineDefinition, entered: string[], iteration: string[]): void {
  const seen = new Set<string>();
  let name: string | undefined = machine.StartAt;
  while (name !== undefined) {
    if (seen.has(name)) throw new Error(`the happy path loops at ${name}`);
    seen.add(name);
    const state: AslState | undefined = machine.States[name];
    if (!state) throw new Error(`no state named ${name}`);
    entered.push(name);
    if (state.Type === 'Map') {
      const processor = machineOf(state.ItemProcessor ?? state.Iterator);
      if (iteration.length > 0) throw new Error('nested Map states are not counted');
      walk(processor, iteration, iteration);
    } else if (state.Type === 'Parallel') {
      const branches = Array.isArray(state.Branches) ? state.Branches : [];
      for (const branch of branches) walk(machineOf(branch), entered, iteration);
    }
    name = nextOnHappyPath(state, name);
  }
}

function nextOnHappyPath(state: AslState, name: string): string | undefined {
  if (state.Type === 'Succeed' || state.Type === 'Fail') return undefined;
  if (state.Type === 'Choice') {
    if (typeof state.Default !== 'string') throw new Error(`Choice ${name} has no Default to follow`);
    return state.Default;
  }
  if (state.End === true) return undefined;
  if (typeof state.Next !== 'string') throw new Error(`${name} has neither Next nor End`);
  return state.Next;
}

export function happyPath(definition: StateMachineDefinition): HappyPath {
  const deploymentStates: string[] = [];
  const applicationStates: string[] = [];
  walk(definition, deploymentStates, applicationStates);
  return { deploymentStates, applicationStates };
}

/** Happy-path transitions of one deployment of `applications` applications. */
export function countHappyPathTransitions(definition: StateMachineDefinition, applications: number): number {
  const path = happyPath(definition);
  return path.deploymentStates.length + applications * path.applicationStates.length;
}

/** Happy-path transitions per step id (states named `<step id>.<Name>`) of one application. */
export function transitionsPerStep(definition: StateMachineDefinition): Map<string, number> {
  const perStep = new Map<string, number>();
  for (const name of happyPath(definition).applicationStates) {
    const match = /^([a-z][a-z0-9_]*)\./.exec(name);
    if (match?.[1]) perStep.set(match[1], (perStep.get(match[1]) ?? 0) + 1);
  }
  return perStep;
}
