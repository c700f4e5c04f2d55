import type { Deployment, Task } from '../../../console/src/api/types';

export function task(overrides: Partial<Task> & Pick<Task, 'id'>): Task {
  return {
    deployment_id: 'dep_1',
    type: 'build',
    status: 'pending',
    payload: '{}',
    result: '',
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:00:00Z',
    started_at: null,
    completed_at: null,
    application_id: 'app_a',
    step_id: overrides.type ?? 'build',
    depends_on: [],
    attempt: 0,
    ...overrides,
  };
}

export function deployment(overrides: Partial<Deployment> & Pick<Deployment, 'id'>): Deployment {
  return {
    version_id: 'ver_1',
    application_ids: ['app_a'],
    environment_id: 'env_1',
    status: 'success',
    created_by: 'admin@example.com',
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:00:00Z',
    started_at: '2026-12-01T10:00:00Z',
    completed_at: '2026-12-01T10:01:00Z',
    error_message: '',
    strategy: 'standard',
    rollback_of: null,
    ...overrides,
  };
}
