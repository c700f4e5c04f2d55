import { readFile, realpath, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { BuildahConfig } from '../config/agent-config';
import type { RegistryTarget } from '../config/target';
import { type CommandResult, describeFailure, runCommand } from '../process/run-command';
import { checkoutVersion } from './checkout';
import { optionalString, optionalStrings } from './config-values';
import { type Executor, type TaskContext, TaskFailure } from './executor';
import { imageReference, imageRepository } from './image';

/**
 * `build`: clones the version at its commit, builds the image with `buildah bud`
 * (daemonless), tags it with the step's `config.tags` qualified with the target's registry,
 * pushes every tag there and returns `{image, tags, digest, commit}`.
 */
export class BuildExecutor implements Executor {
  readonly type = 'build';

  constructor(private readonly buildah: BuildahConfig) {}

  async execute(context: TaskContext) {
    const { payload, target, log, signal } = context;
    const registry = target.registry;
    if (!registry)
      throw new TaskFailure(
        'NoRegistry',
        `the agent's target for environment ${payload.environment.name} names no registry to push to`,
      );
    const { dir, commit } = await checkoutVersion(context);
    const dockerfile = await inside(
      dir,
      optionalString(payload.config, 'dockerfile') ?? 'Dockerfile',
      'dockerfile',
    );
    const buildContext = await inside(dir, optionalString(payload.config, 'context') ?? '.', 'context');
    const tags = qualifiedTags(context, registry);
    const [image] = tags;
    if (image === undefined) throw new TaskFailure('InvalidStepConfig', 'config.tags names no tag');

    const authFile = await this.#authFile(context, registry);
    const buildah = (args: string[]) =>
      runCommand({
        argv: [this.buildah.command, ...this.#storageArguments(), ...args],
        cwd: dir,
        signal,
        log,
        // buildah writes its temporary layers here instead of /var/tmp
        env: { TMPDIR: context.workDir, ...(authFile ? { REGISTRY_AUTH_FILE: authFile } : {}) },
      });
    const failIf = (result: CommandResult, code: string, what: string) => {
      if (!result.ok) throw new TaskFailure(code, describeFailure(result, what));
    };

    const tls = registry.insecure ? ['--tls-verify=false'] : [];
    log.info(`building ${tags.join(', ')} from ${relative(dir, dockerfile) || 'Dockerfile'}`);
    failIf(
      await buildah([
        'bud',
        ...tls,
        '--isolation',
        this.buildah.isolation,
        '--layers=false',
        '-f',
        dockerfile,
        ...tags.flatMap((tag) => ['-t', tag]),
        buildContext,
      ]),
      'BuildFailed',
      'buildah bud',
    );

    let digest = '';
    for (const [index, tag] of tags.entries()) {
      const digestFile = join(context.workDir, `digest-${index}`);
      failIf(
        await buildah(['push', ...tls, '--digestfile', digestFile, tag, `docker://${tag}`]),
        'PushFailed',
        `buildah push of ${tag}`,
      );
      digest ||= (await readFile(digestFile, 'utf8')).trim();
    }
    log.info(`pushed ${image}@${digest}`);
    return { image, tags, digest, commit };
  }

  #storageArguments(): string[] {
    const { storage_driver, root, runroot } = this.buildah;
    return [
      '--storage-driver',
      storage_driver,
      ...(root ? ['--root', root] : []),
      ...(runroot ? ['--runroot', runroot] : []),
    ];
  }

  /** A registry auth file in the task's directory (mode 0600): credentials never go on a command line. */
  async #authFile(context: TaskContext, registry: RegistryTarget): Promise<string | undefined> {
    if (registry.password_path === undefined) return undefined;
    if (registry.username === undefined)
      throw new TaskFailure('InvalidTarget', 'the target registry has a password_path but no username');
    const password = await context.readSecret(registry.password_path);
    const auth = Buffer.from(`${registry.username}:${password}`).toString('base64');
    const file = join(context.workDir, 'registry-auth.json');
    await writeFile(file, JSON.stringify({ auths: { [registry.host]: { auth } } }), { mode: 0o600 });
    return file;
  }
}

/** `config.tags` (`<image>:<tag>`) as references in the target's registry; the version's tag when none. */
export function qualifiedTags(
  context: Pick<TaskContext, 'payload'>,
  registry: RegistryTarget | undefined,
): string[] {
  const { payload } = context;
  const tags = optionalStrings(payload.config, 'tags') ?? [];
  if (tags.length === 0) return [imageReference(payload, registry)];
  const repository = imageRepository(payload, registry);
  const qualified = tags.map((tag) => {
    const lastSlash = tag.lastIndexOf('/');
    const colon = tag.lastIndexOf(':');
    const name = colon > lastSlash ? tag.slice(colon + 1) : 'latest';
    return `${repository}:${name}`;
  });
  return [...new Set(qualified)];
}

/** A path of the step config, which must stay within the checkout. */
async function inside(dir: string, path: string, field: string): Promise<string> {
  const absolute = resolve(dir, path);
  let real: string;
  try {
    real = await realpath(absolute);
  } catch {
    throw new TaskFailure('InvalidStepConfig', `config.${field} "${path}" does not exist in the repository`);
  }
  const root = await realpath(dir);
  const within = relative(root, real);
  if (within.startsWith('..') || isAbsolute(within))
    throw new TaskFailure('InvalidStepConfig', `config.${field} "${path}" points outside the repository`);
  return real;
}
