import { describe, expect, it } from 'vitest';
import { elapsedOf, progressOf } from '../../../console/src/model/status';

const of = (...statuses: ('pending' | 'running' | 'success' | 'failed')[]) =>
  statuses.map((status) => ({ status }));

describe('status aggregation of a deployment’s tasks', () => {
  it('counts the tasks by status and the percent done', () => {
    expect(progressOf(of('success', 'success', 'running', 'pending'))).toEqual({
      total: 4,
      succeeded: 2,
      failed: 0,
      running: 1,
      pending: 1,
      percent: 50,
      status: 'running',
    });
  });

  it('is failed as soon as one task failed, success only when all succeeded', () => {
    expect(progressOf(of('success', 'failed', 'running')).status).toBe('failed');
    expect(progressOf(of('success', 'success')).status).toBe('success');
    expect(progressOf(of('success', 'pending')).status).toBe('running');
    expect(progressOf(of('pending', 'pending')).status).toBe('pending');
    expect(progressOf([])).toMatchObject({ status: 'pending', percent: 0, total: 0 });
  });

  it('rounds the percent down, so 100 % means every task is done', () => {
    expect(progressOf(of('success', 'success', 'pending')).percent).toBe(66);
  });

  it('shows how long a task ran, or has been running', () => {
    const now = new Date('2026-12-01T10:05:00Z');
    expect(elapsedOf({ started_at: null, completed_at: null }, now)).toBe('');
    expect(elapsedOf({ started_at: '2026-12-01T10:00:00Z', completed_at: '2026-12-01T10:00:42Z' }, now)).toBe(
      '42s',
    );
    expect(elapsedOf({ started_at: '2026-12-01T10:00:00Z', completed_at: null }, now)).toBe('5m 00s');
    expect(elapsedOf({ started_at: '2026-12-01T08:00:00Z', completed_at: '2026-12-01T09:30:00Z' }, now)).toBe(
      '1h 30m',
    );
  });
});
