import { describe, expect, it } from 'vitest';
import type { Application } from '../../lambdas/domain/application';
import type { Environment } from '../../lambdas/domain/environment';
import { TooLarge } from '../../lambdas/domain/errors';
import type { Version } from '../../lambdas/domain/version';
import { planDeployment, taskIdsOfExecutionInput } from '../../lambdas/services/deployment-plan';
import { WORKFLOW_TEMPLATES } from '../../lambdas/workflow';

const NOW = '2026-12-01T10:00:00Z';
const version: Version = {
  id: 'ver_1',
  git_tag: 'v1.0.0',
  git_commit: 'abc123def456',
  repository: 'https://github.com/org/repo',
  description: '',
  created_by: 'me@example.com',
  created_at: NOW,
};
const application = (id: string, config: Record<string, unknown> = {}): Application => ({
  id,
  name: id,
  repository: version.repository,
  type: 'microservice',
  config,
  created_at: NOW,
  updated_at: NOW,
});
const environment: Environment = {
  id: 'env_1',
  name: 'production',
  type: 'kubernetes',
  config: { namespace: 'default' },
  is_active: true,
  created_at: NOW,
  updated_at: NOW,
};

const plan = (applications: Application[], strategy: 'standard' | 'blue-green' = 'standard') =>
  planDeployment({
    deploymentId: 'dep_1',
    version,
    environment,
    applications,
    strategy,
    template: WORKFLOW_TEMPLATES[strategy],
    createdBy: 'me@example.com',
    rollbackOf: null,
    now: NOW,
    taskId: (applicationIndex, stepIndex) => `task_${applicationIndex}${stepIndex}`,
  });

describe('planDeployment', () => {
  it('plans one pending task per application and step, in pipeline order, with dependencies by task id', () => {
    const { deployment, tasks } = plan([application('app_a'), application('app_b')]);
    expect(deployment).toMatchObject({ id: 'dep_1', status: 'pending', application_ids: ['app_a', 'app_b'] });
    expect(tasks.map((task) => [task.application_id, task.step_id])).toEqual([
      ['app_a', 'build'],
      ['app_a', 'test'],
      ['app_a', 'deploy'],
      ['app_a', 'health_check'],
      ['app_b', 'build'],
      ['app_b', 'test'],
      ['app_b', 'deploy'],
      ['app_b', 'health_check'],
    ]);
    expect(tasks.find((task) => task.id === 'task_12')?.depends_on).toEqual(['task_11']);
    expect(tasks.every((task) => task.status === 'pending' && task.attempt === 0 && task.result === '')).toBe(
      true,
    );
  });

  it('puts every task id in the workflow input, where a cancel finds them', () => {
    const { tasks, executionInput } = plan([application('app_a')], 'blue-green');
    expect(taskIdsOfExecutionInput(executionInput)).toEqual(tasks.map((task) => task.id));
  });

  it('refuses a deployment whose workflow input would be over the limit, before anything is written', () => {
    const big = Object.fromEntries(
      Array.from({ length: 30 }, (_, index) => [`key_${index}`, 'x'.repeat(3000)]),
    );
    const applications = Array.from({ length: 10 }, (_, index) => application(`app_${index}`, big));
    expect(() => plan(applications)).toThrow(TooLarge);
  });
});
