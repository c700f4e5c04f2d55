import { describe, expect, it } from 'vitest';
import type { Application, Environment } from '../../../console/src/api/types';
import { overviewMatrix, previousVersionOf } from '../../../console/src/model/overview';
import { deployment } from './fixtures';

const environment = (id: string): Environment => ({
  id,
  name: id,
  type: 'kubernetes',
  config: {},
  is_active: true,
  created_at: '2026-12-01T09:00:00Z',
  updated_at: '2026-12-01T09:00:00Z',
});
const application = (id: string): Application => ({
  id,
  name: id,
  repository: 'https://github.com/org/repo',
  type: 'microservice',
  config: {},
  created_at: '2026-12-01T09:00:00Z',
  updated_at: '2026-12-01T09:00:00Z',
});

describe('the overview matrix', () => {
  const deployments = [
    deployment({
      id: 'd1',
      version_id: 'ver_1',
      application_ids: ['app_a', 'app_b'],
      created_at: '2026-12-01T10:00:00Z',
    }),
    deployment({
      id: 'd2',
      version_id: 'ver_2',
      application_ids: ['app_a'],
      created_at: '2026-12-01T11:00:00Z',
    }),
    deployment({
      id: 'd3',
      version_id: 'ver_3',
      status: 'failed',
      application_ids: ['app_b'],
      created_at: '2026-12-01T12:00:00Z',
    }),
    deployment({
      id: 'd4',
      version_id: 'ver_4',
      status: 'running',
      application_ids: ['app_a'],
      created_at: '2026-12-01T13:00:00Z',
    }),
    deployment({ id: 'd5', environment_id: 'env_2', version_id: 'ver_9', application_ids: ['app_b'] }),
  ];
  const rows = overviewMatrix(
    [environment('env_1'), environment('env_2')],
    [application('app_a'), application('app_b')],
    deployments,
  );
  const cell = (env: number, app: number) => rows[env]?.cells[app];

  it('shows in each cell the version of the newest successful deployment there', () => {
    expect(cell(0, 0)?.current?.version_id).toBe('ver_2');
    expect(cell(0, 1)?.current?.version_id).toBe('ver_1');
    expect(cell(1, 1)?.current?.version_id).toBe('ver_9');
    expect(cell(1, 0)?.current).toBeUndefined();
  });

  it('shows a running deployment beside what runs now, and a newer failure as the latest', () => {
    expect(cell(0, 0)?.active?.id).toBe('d4');
    expect(cell(0, 1)?.active).toBeUndefined();
    expect(cell(0, 1)?.latest?.id).toBe('d3');
  });
});

describe('the default rollback target', () => {
  it('is the version of the newest earlier success in the environment with all the applications', () => {
    const history = [
      deployment({
        id: 'old',
        version_id: 'ver_1',
        application_ids: ['app_a', 'app_b'],
        created_at: '2026-12-01T09:00:00Z',
      }),
      deployment({
        id: 'partial',
        version_id: 'ver_2',
        application_ids: ['app_a'],
        created_at: '2026-12-01T10:00:00Z',
      }),
      deployment({
        id: 'failed',
        version_id: 'ver_3',
        status: 'failed',
        created_at: '2026-12-01T11:00:00Z',
        application_ids: ['app_a', 'app_b'],
      }),
      deployment({
        id: 'other-env',
        version_id: 'ver_4',
        environment_id: 'env_2',
        created_at: '2026-12-01T11:30:00Z',
        application_ids: ['app_a', 'app_b'],
      }),
    ];
    const current = deployment({
      id: 'now',
      version_id: 'ver_5',
      application_ids: ['app_a', 'app_b'],
      created_at: '2026-12-01T12:00:00Z',
    });
    expect(previousVersionOf(current, [...history, current])).toBe('ver_1');
  });

  it('skips deployments of the same version and later ones; none when nothing qualifies', () => {
    const current = deployment({ id: 'now', version_id: 'ver_5', created_at: '2026-12-01T12:00:00Z' });
    const same = deployment({ id: 'same', version_id: 'ver_5', created_at: '2026-12-01T11:00:00Z' });
    const later = deployment({ id: 'later', version_id: 'ver_6', created_at: '2026-12-01T13:00:00Z' });
    expect(previousVersionOf(current, [current, same, later])).toBeUndefined();
  });
});
