import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildahConfig } from '../../../agent/config/agent-config';
import { BuildExecutor, qualifiedTags } from '../../../agent/executors/build';
import { TaskFailure } from '../../../agent/executors/executor';
import { gitRepository } from '../support/git-repo';
import { agentTask } from '../support/messages';
import { type LocalRegistry, startRegistry } from '../support/registry';
import { taskContext } from '../support/task-context';

// Real buildah (vfs storage, chroot isolation: root, no daemon) and a real registry; the
// base image is made from the static busybox binary, so nothing is pulled from the internet.
describe('build executor: buildah bud and push to a real registry', () => {
  let registry: LocalRegistry;
  const storage = mkdtempSync(join(tmpdir(), 'buildah-'));
  const buildah: BuildahConfig = {
    command: 'buildah',
    storage_driver: 'vfs',
    isolation: 'chroot',
    root: join(storage, 'root'),
    runroot: join(storage, 'run'),
  };
  const storageArgs = [
    '--storage-driver',
    'vfs',
    '--root',
    join(storage, 'root'),
    '--runroot',
    join(storage, 'run'),
  ];

  beforeAll(async () => {
    registry = await startRegistry();
    const run = (...args: string[]) =>
      execFileSync('buildah', [...storageArgs, ...args], { encoding: 'utf8' }).trim();
    const container = run('from', 'scratch');
    run('copy', container, '/bin/busybox', '/bin/busybox');
    run('copy', container, '/bin/busybox', '/bin/sh');
    run('commit', '--quiet', container, 'localhost/busybox-base');
    run('rm', container);
  }, 120_000);
  afterAll(async () => {
    await registry.stop();
  });

  it('builds the version at its commit, pushes every tag and returns the digest the registry reports', async () => {
    const repo = gitRepository({
      'docker/app.Dockerfile':
        'FROM localhost/busybox-base\nCOPY hello.txt /hello.txt\nRUN ["/bin/busybox", "cat", "/hello.txt"]\n',
      'app/hello.txt': 'hello from the build\n',
    });
    const passwordFile = join(storage, 'registry-password');
    writeFileSync(passwordFile, 's3cret-registry-password\n');
    const message = agentTask({
      type: 'build',
      repository: repo.dir,
      commit: repo.commit,
      timeoutSeconds: 600,
      config: { dockerfile: 'docker/app.Dockerfile', context: 'app', tags: ['api:v1.0.0', 'api:latest'] },
    });
    const context = taskContext(message, {
      registry: {
        host: registry.host,
        namespace: 'team-a',
        username: 'ci',
        password_path: passwordFile,
        insecure: true,
      },
    });
    const result = await new BuildExecutor(buildah).execute(context);
    await context.writer.close();

    const image = `${registry.host}/team-a/api`;
    expect(result).toMatchObject({
      image: `${image}:v1.0.0`,
      tags: [`${image}:v1.0.0`, `${image}:latest`],
      commit: repo.commit,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(await registry.digestOf('team-a/api', 'v1.0.0')).toBe(result.digest);
    expect(await registry.digestOf('team-a/api', 'latest')).toBe(result.digest);
    const log = context.sink.text(message.task_id);
    expect(log).toContain('hello from the build');
    expect(log).toContain(`pushed ${image}:v1.0.0@${result.digest}`);
    expect(log).not.toContain('s3cret-registry-password');
  }, 120_000);

  it('refuses a Dockerfile path outside the repository', async () => {
    const repo = gitRepository({ Dockerfile: 'FROM localhost/busybox-base\n' });
    const message = agentTask({
      type: 'build',
      repository: repo.dir,
      commit: repo.commit,
      config: { dockerfile: '../../etc/passwd' },
    });
    const context = taskContext(message, { registry: { host: registry.host, insecure: true } });
    const error = await new BuildExecutor(buildah).execute(context).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TaskFailure);
    expect(error).toMatchObject({ error: 'InvalidStepConfig' });
  });

  it("qualifies the step's tags with the target registry", () => {
    const message = agentTask({
      type: 'build',
      config: { tags: ['org/api:v2', 'org/api:latest'], image: 'org/api' },
    });
    expect(
      qualifiedTags(taskContext(message), { host: 'registry.example.com:5000', insecure: false }),
    ).toEqual(['registry.example.com:5000/org/api:v2', 'registry.example.com:5000/org/api:latest']);
    const untagged = agentTask({ type: 'build' });
    expect(qualifiedTags(taskContext(untagged), undefined)).toEqual(['api:v1.0.0']);
  });
});
