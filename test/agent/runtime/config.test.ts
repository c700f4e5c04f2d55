import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig, parseAgentConfig, targetFor } from '../../../agent/config/agent-config';
import { failureReport } from '../../../agent/protocol/task-answer';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const messageOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return 'no error';
};

const minimal = `
queue:
  url: https://sqs.eu-west-1.amazonaws.com/123456789012/deploy-manager-tasks
  region: eu-west-1
work_dir: /var/lib/deploy-agent
task_logs:
  table: deploy-manager
targets:
  - environment: production
    base_url: https://api.example.com
    registry: { host: registry.example.com, namespace: team-a }
  - environment: env_01jb3kq2x9
`;

describe('agent config', () => {
  it('reads YAML and fills the defaults', () => {
    const config = loadAgentConfig(write('agent.yaml', minimal));
    expect(config).toMatchObject({
      concurrency: 4,
      shutdown_grace_seconds: 300,
      queue: { wait_seconds: 20 },
      task_logs: { table: 'deploy-manager', retention_days: 30, max_bytes_per_attempt: 5 * 1024 * 1024 },
      buildah: { storage_driver: 'vfs', isolation: 'chroot' },
      executor_modules: [],
    });
    expect(config.targets[0]).toMatchObject({ registry: { insecure: false }, secrets: {} });
  });

  it('finds a target by environment id or by name', () => {
    const config = loadAgentConfig(write('agent.yml', minimal));
    expect(targetFor(config, { id: 'env_x', name: 'production' })?.base_url).toBe('https://api.example.com');
    expect(targetFor(config, { id: 'env_01jb3kq2x9', name: 'staging' })?.environment).toBe('env_01jb3kq2x9');
    expect(targetFor(config, { id: 'env_y', name: 'qa' })).toBeUndefined();
  });

  it('names the one wrong field', () => {
    const base = {
      queue: { url: 'https://sqs.example/q', region: 'us-east-1' },
      work_dir: '/w',
      task_logs: { table: 't' },
    };
    expect(
      messageOf(() =>
        parseAgentConfig({
          ...base,
          targets: [{ environment: 'p', ssh: { private_key_path: '/k', known_hosts: '/h' } }],
        }),
      ),
    ).toBe('config targets[0].ssh.user: Required');
    expect(
      messageOf(() => parseAgentConfig({ ...base, targets: [{ environment: 'p', kubeconfig: '/k' }] })),
    ).toBe('config targets[0]: unknown field "kubeconfig"');
    expect(
      messageOf(() => parseAgentConfig({ ...base, concurrency: 0, targets: [{ environment: 'p' }] })),
    ).toMatch(/^config concurrency: /);
    expect(messageOf(() => parseAgentConfig({ targets: [] }))).toBe('config queue: Required');
    expect(messageOf(() => loadAgentConfig(write('broken.json', '{"queue": ')))).toMatch(
      /^config .*broken\.json: not valid JSON/,
    );
    expect(messageOf(() => loadAgentConfig(join(dir, 'missing.yaml')))).toMatch(
      /missing\.yaml: cannot read it \(ENOENT\)$/,
    );
  });
});

describe('failure reports within the protocol', () => {
  it('moves reserved error prefixes aside and cuts long causes', () => {
    expect(failureReport('States.Timeout', 'x').error).toBe('Agent.States.Timeout');
    expect(failureReport('', 'x').error).toBe('TaskFailed');
    const report = failureReport('E'.repeat(300), 'c'.repeat(40_000));
    expect(report.error).toHaveLength(256);
    expect(report.cause).toHaveLength(32_768);
    expect(report.cause.endsWith('(cut)')).toBe(true);
  });
});
