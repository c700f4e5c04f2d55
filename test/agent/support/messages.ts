import type { TaskMessageV1 } from '../../../lambdas/agent-protocol';

let counter = 0;

/** A v1 task message with a complete payload, as the workflow sends it. */
export function agentTask(
  options: {
    type?: string;
    config?: Record<string, unknown>;
    environment?: { id?: string; name?: string };
    repository?: string;
    commit?: string;
    gitTag?: string;
    attempt?: number;
    heartbeatSeconds?: number;
    timeoutSeconds?: number;
  } = {},
): TaskMessageV1 {
  counter += 1;
  const type = options.type ?? 'test';
  const environment = {
    id: options.environment?.id ?? 'env_1',
    name: options.environment?.name ?? 'staging',
  };
  const repository = options.repository ?? 'https://example.invalid/org/repo.git';
  const id = `task_${process.pid}_${Date.now()}_${counter}`;
  return {
    protocol_version: '1',
    task_id: id,
    task_type: type,
    step_id: type,
    deployment_id: 'dep_1',
    application_id: 'app_1',
    environment_id: environment.id,
    version_id: 'ver_1',
    attempt: options.attempt ?? 1,
    payload: {
      step: type,
      type,
      config: (options.config ?? {}) as TaskMessageV1['payload'],
      application: { id: 'app_1', name: 'api', repository, type: 'microservice' },
      environment: { ...environment, type: 'kubernetes' },
      version: {
        id: 'ver_1',
        git_tag: options.gitTag ?? 'v1.0.0',
        git_commit: options.commit ?? 'abc1234',
        repository,
      },
      secret_keys: [],
    },
    task_token: `token-${id}`,
    heartbeat_seconds: options.heartbeatSeconds ?? 120,
    timeout_seconds: options.timeoutSeconds ?? 3600,
  };
}
