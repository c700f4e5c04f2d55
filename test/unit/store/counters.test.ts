import { describe, expect, it } from 'vitest';
import {
  combinationPartition,
  counterChanges,
  counterPartitions,
  mergeCounterChanges,
  totalCounterPartition,
} from '../../../lambdas/store/counters';
import { transitionCounterChanges, transitionExpression } from '../../../lambdas/store/status-transition';

describe('list counters', () => {
  it('count a deployment in its collection, each filter and each combination of them', () => {
    expect(
      counterPartitions('DEPLOYMENT', { environment_id: 'env_1', status: 'running', version_id: 'ver_1' }),
    ).toEqual([
      'DEPLOYMENT',
      'DEPLOYMENT#environment_id=env_1',
      'DEPLOYMENT#status=running',
      'DEPLOYMENT#version_id=ver_1',
      'DEPLOYMENT#environment_id=env_1&status=running',
      'DEPLOYMENT#environment_id=env_1&version_id=ver_1',
      'DEPLOYMENT#status=running&version_id=ver_1',
      'DEPLOYMENT#environment_id=env_1&status=running&version_id=ver_1',
    ]);
  });

  it("leave a deployment's own task partition uncounted: it is small and read instead", () => {
    expect(counterPartitions('TASK', { deployment_id: 'dep_1', status: 'pending', type: 'build' })).toEqual([
      'TASK',
      'TASK#status=pending',
      'TASK#type=build',
      'TASK#status=pending&type=build',
    ]);
    expect(totalCounterPartition('TASK', { deployment_id: 'dep_1', status: 'failed' })).toBeUndefined();
  });

  it('name a combination the same whatever the order of the filters', () => {
    expect(totalCounterPartition('TASK', { type: 'build', status: 'failed' })).toBe(
      'TASK#status=failed&type=build',
    );
    expect(totalCounterPartition('TASK', {})).toBe('TASK');
    expect(totalCounterPartition('APPLICATION', { repository: 'https://h/r' })).toBe(
      'APPLICATION#repository=https://h/r',
    );
  });

  it('keep combinations of values with separators apart', () => {
    const a = combinationPartition('APPLICATION', [
      ['repository', 'a&type=b'],
      ['type', 'c'],
    ]);
    const b = combinationPartition('APPLICATION', [
      ['repository', 'a'],
      ['type', 'b&type=c'],
    ]);
    expect(a).not.toBe(b);
  });

  it('move only the counters whose partition changes, and merge alike moves', () => {
    const moved = transitionCounterChanges(
      { entity: 'TASK', from: 'running', to: 'success' },
      { type: 'build' },
    );
    expect(moved).toEqual([
      { partition: 'TASK#status=running', delta: -1 },
      { partition: 'TASK#status=running&type=build', delta: -1 },
      { partition: 'TASK#status=success', delta: 1 },
      { partition: 'TASK#status=success&type=build', delta: 1 },
    ]);
    const created = mergeCounterChanges([
      ...counterChanges('TASK', undefined, { status: 'pending', type: 'build' }),
      ...counterChanges('TASK', undefined, { status: 'pending', type: 'test' }),
    ]);
    expect(created).toContainEqual({ partition: 'TASK', delta: 2 });
    expect(created).toContainEqual({ partition: 'TASK#status=pending', delta: 2 });
    expect(created).toContainEqual({ partition: 'TASK#type=test', delta: 1 });
    expect(counterChanges('TASK', { status: 'failed', type: 'build' }, undefined)).toContainEqual({
      partition: 'TASK',
      delta: -1,
    });
  });

  it('write a transition only from the status it was read in, with its index partition', () => {
    const expression = transitionExpression(
      { entity: 'TASK', from: 'running', to: 'failed' },
      { set: { result: ':result' }, remove: ['pending_result'] },
    );
    expect(expression.UpdateExpression).toBe(
      'SET #status = :status, #gsi3pk = :status_partition, #updated_at = :now, #result = :result REMOVE #pending_result',
    );
    expect(expression.ConditionExpression).toBe('#status = :from_status');
    expect(expression.literals).toEqual({
      ':status': 'failed',
      ':status_partition': 'TASK#status=failed',
      ':from_status': 'running',
    });
  });
});
