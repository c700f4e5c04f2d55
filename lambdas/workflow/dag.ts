import {
  heartbeatSecondsOf,
  STEP_ID_PATTERN,
  timeoutSecondsOf,
  type WorkflowStep,
  type WorkflowTemplate,
} from './templates';

/** A template that cannot be compiled; `stepId` names the offending step when there is one. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly stepId: string | undefined;

  constructor(message: string, stepId?: string) {
    super(message);
    this.stepId = stepId;
  }
}

/**
 * Checks that a template is a well-formed DAG the compiler can turn into a state machine;
 * throws a TemplateError naming the first offending step.
 */
export function validateTemplate(template: WorkflowTemplate): void {
  const { steps } = template;
  if (steps.length === 0) throw new TemplateError(`Template ${template.name} has no steps`);

  const ids = new Set<string>();
  for (const step of steps) {
    if (!STEP_ID_PATTERN.test(step.id)) {
      throw new TemplateError(
        `Step id "${step.id}" must be lower-case letters, digits and _, start with a letter, at most 40 long`,
        step.id,
      );
    }
    if (ids.has(step.id)) throw new TemplateError(`Step ${step.id} is defined twice`, step.id);
    ids.add(step.id);
    if (step.type.length === 0) throw new TemplateError(`Step ${step.id} has no type`, step.id);
    // Step Functions refuses a Task whose heartbeat is not shorter than its timeout.
    if (heartbeatSecondsOf(step) >= timeoutSecondsOf(step)) {
      throw new TemplateError(
        `Step ${step.id}: heartbeat_seconds must be less than timeout_seconds`,
        step.id,
      );
    }
  }
  for (const step of steps) {
    for (const dependency of step.depends_on) {
      if (dependency === step.id) throw new TemplateError(`Step ${step.id} depends on itself`, step.id);
      if (!ids.has(dependency)) {
        throw new TemplateError(`Step ${step.id} depends on unknown step ${dependency}`, step.id);
      }
    }
  }
  const onCycle = findStepOnCycle(steps);
  if (onCycle !== undefined) {
    throw new TemplateError(`Step ${onCycle} is on a dependency cycle`, onCycle);
  }
}

/** A step on a dependency cycle, if any (depth-first search, three colours). */
function findStepOnCycle(steps: readonly WorkflowStep[]): string | undefined {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const state = new Map<string, 'visiting' | 'done'>();

  const visit = (id: string): string | undefined => {
    const seen = state.get(id);
    if (seen === 'visiting') return id;
    if (seen === 'done') return undefined;
    state.set(id, 'visiting');
    for (const dependency of byId.get(id)?.depends_on ?? []) {
      const found = visit(dependency);
      if (found !== undefined) return found;
    }
    state.set(id, 'done');
    return undefined;
  };

  for (const step of steps) {
    const found = visit(step.id);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Groups the steps of a valid template into layers: every step sits one layer after its
 * deepest dependency, so the steps of one layer can run together once the layers before
 * have finished. Layers keep the template's step order.
 */
export function layerSteps(template: WorkflowTemplate): WorkflowStep[][] {
  validateTemplate(template);
  const depth = new Map<string, number>();
  const byId = new Map(template.steps.map((step) => [step.id, step]));

  const depthOf = (step: WorkflowStep): number => {
    const known = depth.get(step.id);
    if (known !== undefined) return known;
    let deepest = -1;
    for (const dependency of step.depends_on) {
      const parent = byId.get(dependency);
      if (parent) deepest = Math.max(deepest, depthOf(parent));
    }
    depth.set(step.id, deepest + 1);
    return deepest + 1;
  };

  const layers: WorkflowStep[][] = [];
  for (const step of template.steps) {
    const index = depthOf(step);
    while (layers.length <= index) layers.push([]);
    layers[index]?.push(step);
  }
  return layers;
}

/** The steps of a valid template in an order that runs every dependency first. */
export const topologicalOrder = (template: WorkflowTemplate): WorkflowStep[] => layerSteps(template).flat();
