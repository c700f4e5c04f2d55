import { readFile } from 'node:fs/promises';
import type { AgentTarget } from '../../../../agent/config/target';
import type { TaskContext } from '../../../../agent/executors/executor';
import type { TaskMessageV1, TaskPayloadV1 } from '../../../../lambdas/agent-protocol';
import type { ClusterUnderTest } from './cluster-under-test';

export interface TaskRun {
  context: TaskContext;
  lines: string[];
  abort: AbortController;
}

export interface TaskInput {
  type: string;
  config: Record<string, TaskPayloadV1['config'][string]>;
  application?: string;
  gitTag: string;
  deploymentId?: string;
  kubeconfigPath?: string;
  /** called with every log line (to act at a moment of the task) */
  onLine?: (line: string, run: TaskRun) => void;
}

/** A TaskContext as the agent's runtime gives one to an executor, for the cluster under test. */
export function taskContext(
  cluster: Pick<ClusterUnderTest, 'kubeconfigPath' | 'context' | 'namespace'>,
  input: TaskInput,
): TaskRun {
  const abort = new AbortController();
  const lines: string[] = [];
  const payload: TaskPayloadV1 = {
    step: input.type,
    type: input.type,
    config: { cluster: 'test', namespace: cluster.namespace, ...input.config },
    application: {
      id: 'app_test',
      name: input.application ?? 'web',
      repository: 'https://github.com/org/web',
      type: 'microservice',
    },
    environment: { id: 'env_test', name: 'test', type: 'kubernetes' },
    version: {
      id: 'ver_test',
      git_tag: input.gitTag,
      git_commit: 'abc123',
      repository: 'https://github.com/org/web',
    },
    secret_keys: ['kubeconfig'],
  };
  const message: TaskMessageV1 = {
    protocol_version: '1',
    task_id: `task_${input.type}`,
    task_type: input.type,
    step_id: input.type,
    deployment_id: input.deploymentId ?? 'dep_test',
    application_id: 'app_test',
    environment_id: 'env_test',
    version_id: 'ver_test',
    attempt: 1,
    payload: structuredClone(payload) as TaskMessageV1['payload'],
    task_token: 'token',
    heartbeat_seconds: 120,
    timeout_seconds: 3600,
  };
  const target: AgentTarget = {
    environment: 'test',
    kubernetes: {
      kubeconfig_path: input.kubeconfigPath ?? cluster.kubeconfigPath,
      ...(cluster.context ? { context: cluster.context } : {}),
    },
    secrets: {},
  };
  const run: TaskRun = {
    abort,
    lines,
    context: {
      message,
      payload,
      target,
      workDir: '/tmp',
      signal: abort.signal,
      log: {
        info(line) {
          lines.push(line);
          input.onLine?.(line, run);
        },
        output(_stream, chunk) {
          lines.push(chunk);
        },
      },
      readSecret: (path) => readFile(path, 'utf8'),
    },
  };
  return run;
}
