import { Application } from '../domain/application';
import type { Page, PageRequest } from '../domain/common';
import { EntityTable, type StoredItem } from './entity-table';
import { ENTITY, entityKey, indexAttributes } from './keys';
import { listPage } from './list-query';
import type { StoreContext } from './store-context';

export interface ApplicationFilter extends PageRequest {
  readonly repository?: string;
  readonly type?: string;
}

/** An application as read for an update: `update` only succeeds while `revision` is current. */
export interface StoredApplication {
  readonly application: Application;
  readonly revision: number;
}

export interface ApplicationRepository {
  create(application: Application): Promise<void>;
  getById(id: string): Promise<Application | undefined>;
  read(id: string): Promise<StoredApplication | undefined>;
  list(filter: ApplicationFilter): Promise<Page<Application>>;
  /** Replaces the application as it was read; 409 when another write changed it since. */
  update(previous: StoredApplication, next: Application): Promise<void>;
  /**
   * Deletes the application once `check` (the usage guard) has passed, unless a deployment
   * started using it meanwhile (409); false when there was nothing to delete.
   */
  delete(id: string, check: () => Promise<void>): Promise<boolean>;
}

const toItem = (application: Application, revision: number): StoredItem => ({
  ...entityKey(ENTITY.application, application.id),
  ...indexAttributes(ENTITY.application, application.id, {
    repository: application.repository,
    type: application.type,
  }),
  ...application,
  revision,
});

const fromItem = (item: Record<string, unknown>): Application => Application.parse(item);

export function createApplicationRepository(context: StoreContext): ApplicationRepository {
  const table = new EntityTable(context, ENTITY.application);
  return {
    create: (application) => table.create(toItem(application, 1)),
    getById: async (id) => {
      const item = await table.get(id);
      return item ? fromItem(item) : undefined;
    },
    read: async (id) => {
      const item = await table.get(id);
      return item ? { application: fromItem(item), revision: item.revision } : undefined;
    },
    list: (filter) =>
      listPage(
        context,
        ENTITY.application,
        { repository: filter.repository, type: filter.type },
        filter,
        fromItem,
      ),
    update: (previous, next) => {
      if (next.id !== previous.application.id) throw new Error('an update cannot change the id');
      // The previous item is rebuilt from what was read: its index partitions derive from the
      // same values, so the counters EntityTable moves are the ones the stored item counted in.
      return table.replace(
        toItem(previous.application, previous.revision),
        toItem(next, previous.revision + 1),
      );
    },
    delete: (id, check) => table.removeById(id, check),
  };
}
