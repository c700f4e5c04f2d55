import { describe, expect, it } from 'vitest';
import { ExecutionInput, executionInputFor, WORKFLOW_TEMPLATES } from '../../../lambdas/workflow';

const input = {
  deployment_id: 'dep_01jb3k',
  version_id: 'ver_01jb3k',
  environment_id: 'env_01jb3k',
  strategy: 'standard',
  applications: [
    {
      application_id: 'app_01jb3k',
      tasks: Object.fromEntries(
        WORKFLOW_TEMPLATES.standard.steps.map((step, index) => [
          step.id,
          { task_id: `task_0${index}`, payload: { config: { replicas: 3 }, secret_keys: ['kubeconfig'] } },
        ]),
      ),
    },
  ],
};

describe('ExecutionInput', () => {
  it('accepts what the API passes to StartExecution', () => {
    expect(ExecutionInput.parse(input)).toEqual(input);
    expect(executionInputFor(WORKFLOW_TEMPLATES.standard).parse(input)).toEqual(input);
  });

  it('rejects ids without their prefix, an unknown strategy, no applications and extra members', () => {
    expect(ExecutionInput.safeParse({ ...input, deployment_id: 'ver_1' }).success).toBe(false);
    expect(ExecutionInput.safeParse({ ...input, strategy: 'canary' }).success).toBe(false);
    expect(ExecutionInput.safeParse({ ...input, applications: [] }).success).toBe(false);
    expect(ExecutionInput.safeParse({ ...input, extra: 1 }).success).toBe(false);
  });

  it('rejects a payload that is not a JSON object', () => {
    const [application] = input.applications;
    const broken = {
      ...input,
      applications: [{ ...application, tasks: { build: { task_id: 'task_1', payload: 'text' } } }],
    };
    expect(ExecutionInput.safeParse(broken).success).toBe(false);
  });

  it('for a template, requires exactly one task per step in every application', () => {
    const result = executionInputFor(WORKFLOW_TEMPLATES['blue-green']).safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['applications', 0, 'tasks']);
    expect(result.error?.issues[0]?.message).toContain('missing: deploy_green, switch_traffic, cleanup_blue');
    expect(result.error?.issues[0]?.message).toContain('unknown: test, deploy');
  });
});
