import { describe, expect, it } from 'vitest';
import { groupByApplication, type WatchSnapshot } from '../../../cli/watch/model';
import { formatElapsed, plainChanges, renderSnapshot } from '../../../cli/watch/render';
import type { Deployment } from '../../../lambdas/domain/deployment';
import type { Task } from '../../../lambdas/domain/task';

const NOW = new Date('2026-12-01T10:01:05Z');
const API = 'app_api';
const WEB = 'app_web';

const deployment = (overrides: Partial<Deployment> = {}): Deployment => ({
  id: 'dep_1',
  version_id: 'ver_1',
  application_ids: [API, WEB],
  environment_id: 'env_1',
  status: 'running',
  created_by: 'me@example.com',
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  started_at: '2026-12-01T10:00:00Z',
  completed_at: null,
  error_message: '',
  strategy: 'standard',
  rollback_of: null,
  ...overrides,
});

const task = (
  application: string,
  step: string,
  status: Task['status'],
  started?: string,
  completed?: string,
): Task => ({
  id: `task_${application}_${step}`,
  deployment_id: 'dep_1',
  type: step,
  status,
  payload: '{}',
  result: '',
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  started_at: started ?? null,
  completed_at: completed ?? null,
  application_id: application,
  step_id: step,
  depends_on: [],
  attempt: started ? 1 : 0,
});

const names = new Map([
  [API, 'api-service'],
  [WEB, 'web'],
]);

function snapshot(
  tasks: Task[],
  overrides: Partial<Deployment> = {},
  lines = new Map<string, string>(),
): WatchSnapshot {
  const current = deployment(overrides);
  return {
    deploymentId: current.id,
    deployment: current,
    versionLabel: 'v1.2.0',
    environmentLabel: 'production',
    applications: groupByApplication(current, tasks, names, lines),
  };
}

const running = [
  task(API, 'build', 'success', '2026-12-01T10:00:00Z', '2026-12-01T10:00:12Z'),
  task(API, 'test', 'running', '2026-12-01T10:00:12Z'),
  task(API, 'deploy', 'pending'),
  task(WEB, 'build', 'success', '2026-12-01T10:00:00Z', '2026-12-01T10:00:03Z'),
  task(WEB, 'test', 'failed', '2026-12-01T10:00:03Z', '2026-12-01T10:00:04Z'),
];

describe('the live view', () => {
  it('shows one line per application, steps in pipeline order with symbols, times and the running log line', () => {
    const lines = renderSnapshot(
      snapshot(running, {}, new Map([['task_app_api_test', '  42 tests passed\n']])),
      NOW,
    );
    expect(lines).toEqual([
      'deployment dep_1  v1.2.0 → production  running  1m05s',
      '  api-service  ✓ build 12s  ● test 53s  ○ deploy  │ 42 tests passed',
      '  web          ✓ build 3s  ✗ test 1s',
    ]);
  });

  it('ends with how the deployment ended, and why when it failed', () => {
    const failed = renderSnapshot(
      snapshot(running, {
        status: 'failed',
        completed_at: '2026-12-01T10:00:30Z',
        error_message: 'Task test of web failed',
      }),
      NOW,
    );
    expect(failed.at(-1)).toBe('✗ deployment dep_1 failed in 30s: Task test of web failed');
    const cancelled = renderSnapshot(
      snapshot(running, {
        status: 'failed',
        completed_at: '2026-12-01T10:00:30Z',
        error_message: 'Deployment cancelled by user',
      }),
      NOW,
    );
    expect(cancelled.at(-1)).toBe('✗ deployment dep_1 was cancelled in 30s');
    const succeeded = renderSnapshot(
      snapshot([], { status: 'success', completed_at: '2026-12-01T10:02:00Z' }),
      NOW,
    );
    expect(succeeded.at(-1)).toBe('✓ deployment dep_1 succeeded in 2m00s');
  });

  it('cuts lines to the terminal width', () => {
    const lines = renderSnapshot(snapshot(running), NOW, 30);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(30);
    expect(lines[1]).toMatch(/…$/);
  });

  it('says it waits for a deployment not visible yet', () => {
    expect(renderSnapshot({ deploymentId: 'dep_9', applications: [] }, NOW)).toEqual([
      'deployment dep_9  waiting for it to appear…',
    ]);
  });

  it('formats elapsed times', () => {
    expect(formatElapsed(400)).toBe('0s');
    expect(formatElapsed(59_999)).toBe('59s');
    expect(formatElapsed(184_000)).toBe('3m04s');
    expect(formatElapsed(3_720_000)).toBe('1h02m');
  });
});

describe('the plain form', () => {
  it('prints a line per change and nothing when nothing changed', () => {
    const first = snapshot([
      task(API, 'build', 'running', '2026-12-01T10:00:00Z'),
      task(API, 'test', 'pending'),
    ]);
    expect(plainChanges(undefined, first, [], NOW)).toEqual([
      'deployment dep_1  v1.2.0 → production  running',
      'api-service build: ● running',
    ]);
    expect(plainChanges(first, first, [], NOW)).toEqual([]);
    const second = snapshot([
      task(API, 'build', 'success', '2026-12-01T10:00:00Z', '2026-12-01T10:00:05Z'),
      task(API, 'test', 'running', '2026-12-01T10:00:05Z'),
    ]);
    expect(
      plainChanges(first, second, [{ taskId: 'task_app_api_test', text: 'running 42 tests' }], NOW),
    ).toEqual([
      'api-service build: ✓ success (5s)',
      'api-service test: ● running',
      'api-service test │ running 42 tests',
    ]);
    const done = snapshot(
      [
        task(API, 'build', 'success', '2026-12-01T10:00:00Z', '2026-12-01T10:00:05Z'),
        task(API, 'test', 'success', '2026-12-01T10:00:05Z', '2026-12-01T10:00:07Z'),
      ],
      { status: 'success', completed_at: '2026-12-01T10:00:07Z' },
    );
    expect(plainChanges(second, done, [], NOW)).toEqual([
      'api-service test: ✓ success (2s)',
      '✓ deployment dep_1 succeeded in 7s',
    ]);
  });
});
