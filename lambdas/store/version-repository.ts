import type { Page, PageRequest } from '../domain/common';
import { Version } from '../domain/version';
import { EntityTable, type StoredItem } from './entity-table';
import { ENTITY, entityKey, indexAttributes } from './keys';
import { listPage } from './list-query';
import type { StoreContext } from './store-context';

export interface VersionFilter extends PageRequest {
  readonly repository?: string;
}

export interface VersionRepository {
  create(version: Version): Promise<void>;
  getById(id: string): Promise<Version | undefined>;
  list(filter: VersionFilter): Promise<Page<Version>>;
  /**
   * Deletes the version once `check` (the usage guard) has passed, unless a deployment
   * started using it meanwhile (409); false when there was nothing to delete.
   */
  delete(id: string, check: () => Promise<void>): Promise<boolean>;
}

const toItem = (version: Version, revision: number): StoredItem => ({
  ...entityKey(ENTITY.version, version.id),
  ...indexAttributes(ENTITY.version, version.id, { repository: version.repository }),
  ...version,
  revision,
});

const fromItem = (item: Record<string, unknown>): Version => Version.parse(item);

export function createVersionRepository(context: StoreContext): VersionRepository {
  const table = new EntityTable(context, ENTITY.version);
  return {
    create: (version) => table.create(toItem(version, 1)),
    getById: async (id) => {
      const item = await table.get(id);
      return item ? fromItem(item) : undefined;
    },
    list: (filter) => listPage(context, ENTITY.version, { repository: filter.repository }, filter, fromItem),
    delete: (id, check) => table.removeById(id, check),
  };
}
