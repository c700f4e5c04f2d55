import { nowTimestamp } from '../domain/common';
import { newId } from '../domain/ids';
import type {
  CreateVersionRequest,
  ListVersionsRequest,
  Version,
  VersionListResponse,
} from '../domain/version';
import { notFound } from '../http/errors';
import type { VersionRepository } from '../store/version-repository';
import type { RequestContext, UsageGuard } from './request-context';

export interface VersionService {
  createVersion(context: RequestContext, request: CreateVersionRequest): Promise<Version>;
  getVersionList(request: ListVersionsRequest): Promise<VersionListResponse>;
  getVersion(id: string): Promise<Version>;
  deleteVersion(id: string): Promise<void>;
}

export function createVersionService(versions: VersionRepository, usage: UsageGuard): VersionService {
  return {
    async createVersion(context, request) {
      const version: Version = {
        id: newId('version'),
        git_tag: request.git_tag,
        git_commit: request.git_commit,
        repository: request.repository,
        created_by: context.caller.email,
        created_at: nowTimestamp(),
        description: request.description,
      };
      await versions.create(version);
      return version;
    },
    async getVersionList(request) {
      const { items, total } = await versions.list(request);
      return { versions: [...items], total, page: request.page, page_size: request.page_size };
    },
    async getVersion(id) {
      const version = await versions.getById(id);
      if (!version) throw notFound('Version', id);
      return version;
    },
    async deleteVersion(id) {
      if (!(await versions.delete(id, () => usage.assertUnused('version', id))))
        throw notFound('Version', id);
    },
  };
}
