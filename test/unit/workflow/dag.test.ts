import { describe, expect, it } from 'vitest';
import {
  layerSteps,
  TemplateError,
  topologicalOrder,
  validateTemplate,
  WORKFLOW_TEMPLATES,
  type WorkflowStep,
  WorkflowTemplate,
} from '../../../lambdas/workflow';

const step = (id: string, dependsOn: string[] = [], extra: Partial<WorkflowStep> = {}): WorkflowStep => ({
  id,
  type: id,
  depends_on: dependsOn,
  config: {},
  ...extra,
});

const template = (...steps: WorkflowStep[]): WorkflowTemplate => ({ name: 'test-template', steps });

function templateError(run: () => unknown): TemplateError {
  try {
    run();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe('validateTemplate', () => {
  it('accepts both shipped templates, which also match the template schema', () => {
    for (const shipped of Object.values(WORKFLOW_TEMPLATES)) {
      expect(() => validateTemplate(shipped)).not.toThrow();
      expect(WorkflowTemplate.parse(shipped)).toEqual(shipped);
    }
  });

  it('rejects an empty template', () => {
    const error = templateError(() => validateTemplate(template()));
    expect(error.message).toContain('has no steps');
    expect(error.stepId).toBeUndefined();
  });

  it('names a duplicate step', () => {
    const error = templateError(() =>
      validateTemplate(template(step('build'), step('test', ['build']), step('build'))),
    );
    expect(error.stepId).toBe('build');
    expect(error.message).toBe('Step build is defined twice');
  });

  it('names the step with an unknown dependency', () => {
    const error = templateError(() => validateTemplate(template(step('build'), step('deploy', ['tset']))));
    expect(error.stepId).toBe('deploy');
    expect(error.message).toBe('Step deploy depends on unknown step tset');
  });

  it('names a step that depends on itself', () => {
    const error = templateError(() => validateTemplate(template(step('build', ['build']))));
    expect(error.stepId).toBe('build');
    expect(error.message).toBe('Step build depends on itself');
  });

  it('names a step on a cycle', () => {
    const cyclic = template(
      step('build'),
      step('a', ['build', 'c']),
      step('b', ['a']),
      step('c', ['b']),
      step('z', ['c']),
    );
    const error = templateError(() => validateTemplate(cyclic));
    expect(['a', 'b', 'c']).toContain(error.stepId);
    expect(error.message).toBe(`Step ${error.stepId} is on a dependency cycle`);
  });

  it('names a step whose id cannot become a state name or JSONPath member', () => {
    for (const id of ['Build', 'health-check', '1st', 'a'.repeat(41), "it's"]) {
      expect(templateError(() => validateTemplate(template(step(id)))).stepId).toBe(id);
    }
  });

  it('names a step whose heartbeat is not shorter than its timeout', () => {
    const error = templateError(() =>
      validateTemplate(template(step('build', [], { heartbeat_seconds: 60, timeout_seconds: 60 }))),
    );
    expect(error.stepId).toBe('build');
    expect(error.message).toContain('heartbeat_seconds must be less than timeout_seconds');
  });
});

describe('layerSteps', () => {
  const ids = (layers: WorkflowStep[][]) => layers.map((layer) => layer.map((each) => each.id));

  it('puts a chain one step per layer', () => {
    expect(ids(layerSteps(WORKFLOW_TEMPLATES.standard))).toEqual([
      ['build'],
      ['test'],
      ['deploy'],
      ['health_check'],
    ]);
    expect(ids(layerSteps(WORKFLOW_TEMPLATES['blue-green']))).toEqual([
      ['build'],
      ['deploy_green'],
      ['health_check'],
      ['switch_traffic'],
      ['cleanup_blue'],
    ]);
  });

  it('puts each step one layer after its deepest dependency, keeping the template order', () => {
    const diamond = template(
      step('deploy', ['test', 'lint']),
      step('build'),
      step('lint', ['build']),
      step('test', ['build']),
      step('notify'),
    );
    expect(ids(layerSteps(diamond))).toEqual([['build', 'notify'], ['lint', 'test'], ['deploy']]);
    expect(topologicalOrder(diamond).map((each) => each.id)).toEqual([
      'build',
      'notify',
      'lint',
      'test',
      'deploy',
    ]);
  });

  it('validates first', () => {
    expect(() => layerSteps(template(step('a', ['b'])))).toThrow(TemplateError);
  });
});
