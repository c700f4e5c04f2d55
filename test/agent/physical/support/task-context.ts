import { readFile } from 'node:fs/promises';
import type { AgentTarget, SshTarget } from '../../../../agent/config/target';
import type { TaskContext, TaskLog } from '../../../../agent/executors/executor';
import { type TaskMessageV1, TaskPayloadV1 } from '../../../../lambdas/agent-protocol';

/** A task log kept in memory, as the runtime's would reach `GET /tasks/{id}/logs`. */
export class MemoryLog implements TaskLog {
  readonly lines: string[] = [];
  private readonly waiters: { pattern: RegExp; resolve: () => void }[] = [];

  info(line: string): void {
    this.add(line);
  }
  output(stream: 'stdout' | 'stderr', chunk: string): void {
    for (const line of chunk.split('\n').filter(Boolean)) this.add(`${stream}: ${line}`);
  }
  text(): string {
    return this.lines.join('\n');
  }
  /** resolves once a line matches */
  waitFor(pattern: RegExp): Promise<void> {
    if (this.lines.some((line) => pattern.test(line))) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
  private add(line: string): void {
    this.lines.push(line);
    for (const waiter of this.waiters.filter((w) => w.pattern.test(line))) waiter.resolve();
  }
}

export interface TaskSetup {
  readonly type: string;
  readonly config: Record<string, TaskPayloadV1['config'][string]>;
  readonly application?: string;
  readonly gitTag: string;
  readonly ssh: SshTarget;
  readonly registry?: AgentTarget['registry'];
}

export interface TestTask {
  readonly context: TaskContext;
  readonly log: MemoryLog;
  readonly abort: AbortController;
  /** the values readSecret handed out (the runtime's log would mask them) */
  readonly secretsRead: string[];
}

let sequence = 0;

export function testTask(setup: TaskSetup): TestTask {
  sequence += 1;
  const application = setup.application ?? 'shop';
  const rawPayload: TaskMessageV1['payload'] = {
    step: setup.type,
    type: setup.type,
    config: setup.config,
    application: {
      id: 'app_1',
      name: application,
      repository: 'https://git.example.com/shop.git',
      type: 'web',
    },
    environment: { id: 'env_1', name: 'hosts', type: 'physical' },
    version: {
      id: 'ver_1',
      git_tag: setup.gitTag,
      git_commit: '1a2b3c4',
      repository: 'https://git.example.com/shop.git',
    },
    secret_keys: [],
  };
  const payload = TaskPayloadV1.parse(rawPayload);
  const message: TaskMessageV1 = {
    protocol_version: '1',
    task_id: `task_${sequence}`,
    task_type: setup.type,
    step_id: setup.type,
    deployment_id: 'dep_1',
    application_id: 'app_1',
    environment_id: 'env_1',
    version_id: 'ver_1',
    attempt: 1,
    payload: rawPayload,
    task_token: 'token',
    heartbeat_seconds: 120,
    timeout_seconds: 3600,
  };
  const log = new MemoryLog();
  const abort = new AbortController();
  const secretsRead: string[] = [];
  const target: AgentTarget = {
    environment: 'hosts',
    ssh: setup.ssh,
    ...(setup.registry ? { registry: setup.registry } : {}),
    secrets: {},
  };
  const context: TaskContext = {
    message,
    payload,
    target,
    workDir: '/nonexistent',
    signal: abort.signal,
    log,
    readSecret: async (path) => {
      const value = await readFile(path, 'utf8');
      secretsRead.push(value);
      return value;
    },
  };
  return { context, log, abort, secretsRead };
}
