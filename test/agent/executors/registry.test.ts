import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinExecutors } from '../../../agent/executors/builtin';
import { loadExecutorModules } from '../../../agent/executors/modules';
import { agentTask } from '../support/messages';
import { taskContext } from '../support/task-context';

const buildah = { command: 'buildah', storage_driver: 'vfs', isolation: 'chroot' } as const;

describe('executor registry', () => {
  it('has the built-in executors', () => {
    expect(builtinExecutors({ buildah }).types()).toEqual([
      'build',
      'cleanup_blue (kubernetes)',
      'cleanup_blue (physical)',
      'deploy (kubernetes)',
      'deploy (physical)',
      'deploy_green (kubernetes)',
      'deploy_green (physical)',
      'health_check',
      'switch_traffic (kubernetes)',
      'switch_traffic (physical)',
      'test',
    ]);
  });

  it("loads a team's own executors from executor_modules, relative to the config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'executor-module-'));
    writeFileSync(
      join(dir, 'migrate.mjs'),
      [
        'export default (registry) => registry.register({',
        "  type: 'migrate_db',",
        '  async execute({ payload, log }) {',
        "    log.info('migrating');",
        '    return { migrated: payload.version.git_tag };',
        '  },',
        '});',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'smoke.mjs'),
      "export default { type: 'health_check', execute: async () => ({ smoke: true }) };",
    );
    const registry = builtinExecutors({ buildah });
    await loadExecutorModules(registry, ['./migrate.mjs', './smoke.mjs'], dir);
    expect(registry.types()).toEqual(expect.arrayContaining(['build', 'health_check', 'migrate_db', 'test']));
    const context = taskContext(agentTask({ type: 'migrate_db' }));
    await expect(registry.get('migrate_db')?.execute(context)).resolves.toEqual({ migrated: 'v1.0.0' });
    // A later registration of a type replaces the built-in.
    await expect(registry.get('health_check')?.execute(context)).resolves.toEqual({ smoke: true });
  });

  it('refuses a module whose default export is not an executor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'executor-module-'));
    writeFileSync(join(dir, 'wrong.mjs'), 'export default 42;');
    await expect(loadExecutorModules(builtinExecutors({ buildah }), ['./wrong.mjs'], dir)).rejects.toThrow(
      'executor module ./wrong.mjs: its default export is not an executor or a register function',
    );
  });
});

describe('executors per environment type', () => {
  it('runs the executor registered for the environment type, else the one for every environment', async () => {
    const { ExecutorRegistry } = await import('../../../agent/executors/registry');
    const executor = (type: string, name: string) => ({ type, execute: async () => ({ name }) });
    const registry = new ExecutorRegistry()
      .register(executor('deploy', 'any'))
      .register(executor('deploy', 'hosts'), { environmentType: 'physical' })
      .register(executor('deploy', 'cluster'), { environmentType: 'kubernetes' });
    const run = async (environmentType: string) =>
      (await registry.get('deploy', environmentType)?.execute({} as never))?.name;
    expect(await run('physical')).toBe('hosts');
    expect(await run('kubernetes')).toBe('cluster');
    expect(await run('mainframe')).toBe('any');
    expect(registry.get('switch_traffic', 'physical')).toBeUndefined();
    expect(registry.types()).toEqual(['deploy', 'deploy (kubernetes)', 'deploy (physical)']);
  });
});
