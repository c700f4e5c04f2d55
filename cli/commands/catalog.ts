import type { Command } from 'commander';
import type * as z from 'zod';
import { Application } from '../../lambdas/domain/application';
import { DeletedResponse } from '../../lambdas/domain/common';
import { Environment } from '../../lambdas/domain/environment';
import { Version } from '../../lambdas/domain/version';
import { usageError } from '../exit-codes';
import { print, table } from '../output';
import { collect, parseConfigPairs, readJsonFile } from '../parse';
import { type Kind, resolve } from '../resolve';
import type { Context } from './context';

interface CatalogSpec<T> {
  readonly kind: Kind;
  readonly command: string;
  readonly path: string;
  readonly listKey: string;
  readonly schema: z.ZodType<T>;
  readonly columns: readonly string[];
  readonly row: (item: T) => readonly string[];
}

/**
 * The config an `update` sends: the file's config, else the current one, then the
 * `--config` pairs over it, less the `--unset` keys (the API replaces config whole on PUT).
 */
function updatedConfig(
  fromFile: Record<string, unknown>,
  current: Record<string, unknown>,
  options: { readonly config?: string[]; readonly unset?: string[] },
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    ...((fromFile.config as Record<string, unknown> | undefined) ?? current),
    ...parseConfigPairs(options.config ?? []),
  };
  for (const key of options.unset ?? []) delete config[key];
  return config;
}

const configText = (config: Record<string, unknown>): string =>
  Object.entries(config)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(',');

const VERSIONS: CatalogSpec<Version> = {
  kind: 'version',
  command: 'versions',
  path: '/versions',
  listKey: 'versions',
  schema: Version,
  columns: ['ID', 'TAG', 'COMMIT', 'REPOSITORY', 'CREATED'],
  row: (item) => [item.id, item.git_tag, item.git_commit.slice(0, 12), item.repository, item.created_at],
};
const APPLICATIONS: CatalogSpec<Application> = {
  kind: 'application',
  command: 'apps',
  path: '/applications',
  listKey: 'applications',
  schema: Application,
  columns: ['ID', 'NAME', 'TYPE', 'REPOSITORY', 'CONFIG'],
  row: (item) => [item.id, item.name, item.type, item.repository, configText(item.config)],
};
const ENVIRONMENTS: CatalogSpec<Environment> = {
  kind: 'environment',
  command: 'envs',
  path: '/environments',
  listKey: 'environments',
  schema: Environment,
  columns: ['ID', 'NAME', 'TYPE', 'ACTIVE', 'CONFIG'],
  row: (item) => [item.id, item.name, item.type, item.is_active ? 'yes' : 'no', configText(item.config)],
};

function listAndGet<T extends { id: string }>(group: Command, spec: CatalogSpec<T>, context: Context): void {
  group
    .command('list')
    .description(`list ${spec.command}, newest first`)
    .option('--limit <n>', 'at most this many', '100')
    .action(async (options: { limit: string }) => {
      const api = await context.api();
      const items = await api.listAll(
        spec.path,
        spec.listKey,
        spec.schema,
        {},
        undefined,
        Number(options.limit),
      );
      const shown = items.slice(0, Number(options.limit));
      print(context.output(), shown, () => table([spec.columns, ...shown.map(spec.row)]));
    });
  group
    .command('get <name-or-id>')
    .description(`show one ${spec.kind}`)
    .action(async (reference: string) => {
      const item = await resolve(await context.api(), spec.kind, reference);
      print(context.output(), item, () => JSON.stringify(item, null, 2));
    });
  group
    .command('delete <name-or-id>')
    .description(`delete a ${spec.kind} no unfinished deployment uses (admins)`)
    .action(async (reference: string) => {
      const api = await context.api();
      const item = await resolve(api, spec.kind, reference);
      const answer = await api.delete(`${spec.path}/${item.id}`, DeletedResponse);
      print(context.output(), { id: item.id, ...answer }, () => `${answer.message}: ${item.id}`);
    });
}

async function created<T extends { id: string }>(
  context: Context,
  spec: CatalogSpec<T>,
  body: Record<string, unknown>,
): Promise<void> {
  const api = await context.api();
  const item = await api.post(spec.path, spec.schema, body);
  print(context.output(), item, () => `created ${spec.kind} ${item.id}`);
}

interface NamedOptions {
  file?: string;
  name?: string;
  repository?: string;
  type?: string;
  config?: string[];
}

function withoutUndefined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

export function registerCatalog(program: Command, context: Context): void {
  const versions = program.command('versions').description('versions: a git tag and commit of a repository');
  listAndGet(versions, VERSIONS, context);
  versions
    .command('create')
    .description('register a version (deployers, admins)')
    .option('-f, --file <file.json>', 'the request body as JSON (- for stdin)')
    .option('--tag <git-tag>')
    .option('--commit <git-commit>')
    .option('--repository <url>')
    .option('--description <text>')
    .action(
      async (options: {
        file?: string;
        tag?: string;
        commit?: string;
        repository?: string;
        description?: string;
      }) => {
        const fromFile = options.file ? await readJsonFile(options.file) : {};
        const body = withoutUndefined({
          ...fromFile,
          git_tag: options.tag ?? fromFile.git_tag,
          git_commit: options.commit ?? fromFile.git_commit,
          repository: options.repository ?? fromFile.repository,
          description: options.description ?? fromFile.description,
        });
        for (const field of ['git_tag', 'git_commit', 'repository'])
          if (body[field] === undefined)
            throw usageError(`versions create needs --${field.replace('git_', '')} (or -f)`);
        await created(context, VERSIONS, body);
      },
    );

  const apps = program.command('apps').description('applications (writes: admins)');
  listAndGet(apps, APPLICATIONS, context);
  apps
    .command('create')
    .description('register an application')
    .option('-f, --file <file.json>', 'the request body as JSON (- for stdin)')
    .option('--name <name>')
    .option('--repository <url>')
    .option('--type <type>')
    .option('--config <key=value>', 'a config entry (repeatable)', collect)
    .action(async (options: NamedOptions) => {
      const fromFile = options.file ? await readJsonFile(options.file) : {};
      const body = withoutUndefined({
        ...fromFile,
        name: options.name ?? fromFile.name,
        repository: options.repository ?? fromFile.repository,
        type: options.type ?? fromFile.type,
        config: options.config
          ? { ...(fromFile.config as object), ...parseConfigPairs(options.config) }
          : fromFile.config,
      });
      for (const field of ['name', 'repository', 'type'])
        if (body[field] === undefined) throw usageError(`apps create needs --${field} (or -f)`);
      await created(context, APPLICATIONS, body);
    });
  apps
    .command('update <name-or-id>')
    .description('change an application (unset fields keep their value)')
    .option('-f, --file <file.json>', 'fields to set, as JSON')
    .option('--name <name>')
    .option('--type <type>')
    .option('--config <key=value>', 'set a config entry (repeatable)', collect)
    .option('--unset <key>', 'remove a config entry (repeatable)', collect)
    .action(async (reference: string, options: NamedOptions & { unset?: string[] }) => {
      const api = await context.api();
      const current = await resolve(api, 'application', reference);
      const fromFile = options.file ? await readJsonFile(options.file) : {};
      const config = updatedConfig(fromFile, current.config, options);
      const body = {
        name: options.name ?? fromFile.name ?? current.name,
        type: options.type ?? fromFile.type ?? current.type,
        config,
      };
      const item = await api.put(`/applications/${current.id}`, Application, body);
      print(context.output(), item, () => `updated application ${item.id}`);
    });

  const envs = program.command('envs').description('environments (writes: admins)');
  listAndGet(envs, ENVIRONMENTS, context);
  envs
    .command('create')
    .description('register an environment (secrets in config are write-only)')
    .option('-f, --file <file.json>', 'the request body as JSON (- for stdin)')
    .option('--name <name>')
    .option('--type <kubernetes|physical>')
    .option('--config <key=value>', 'a config entry (repeatable)', collect)
    .option('--inactive', 'create it inactive')
    .action(async (options: NamedOptions & { inactive?: boolean }) => {
      const fromFile = options.file ? await readJsonFile(options.file) : {};
      const body = withoutUndefined({
        ...fromFile,
        name: options.name ?? fromFile.name,
        type: options.type ?? fromFile.type,
        config: options.config
          ? { ...(fromFile.config as object), ...parseConfigPairs(options.config) }
          : (fromFile.config ?? {}),
        is_active: options.inactive ? false : fromFile.is_active,
      });
      for (const field of ['name', 'type'])
        if (body[field] === undefined) throw usageError(`envs create needs --${field} (or -f)`);
      await created(context, ENVIRONMENTS, body);
    });
  envs
    .command('update <name-or-id>')
    .description('change an environment (unset fields keep their value; secrets stay stored)')
    .option('-f, --file <file.json>', 'fields to set, as JSON')
    .option('--name <name>')
    .option('--type <kubernetes|physical>')
    .option('--config <key=value>', 'set a config entry (repeatable)', collect)
    .option('--unset <key>', 'remove a config entry (repeatable)', collect)
    .option('--active', 'make it active')
    .option('--inactive', 'make it inactive')
    .action(
      async (
        reference: string,
        options: NamedOptions & { unset?: string[]; active?: boolean; inactive?: boolean },
      ) => {
        if (options.active && options.inactive)
          throw usageError('--active and --inactive exclude each other');
        const api = await context.api();
        const current = await resolve(api, 'environment', reference);
        const fromFile = options.file ? await readJsonFile(options.file) : {};
        // "[redacted]" values keep the stored secrets (PUT semantics of the API).
        const config = updatedConfig(fromFile, current.config, options);
        const body = {
          name: options.name ?? fromFile.name ?? current.name,
          type: options.type ?? fromFile.type ?? current.type,
          config,
          is_active: options.active
            ? true
            : options.inactive
              ? false
              : (fromFile.is_active ?? current.is_active),
        };
        const item = await api.put(`/environments/${current.id}`, Environment, body);
        print(context.output(), item, () => `updated environment ${item.id}`);
      },
    );
}
