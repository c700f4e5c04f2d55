import { listAnswer, nowTimestamp } from '../domain/common';
import { NotFound } from '../domain/errors';
import { newId } from '../domain/ids';
import type {
  CreateVersionRequest,
  ListVersionsRequest,
  Version,
  VersionListResponse,
} from '../domain/version';
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
      return listAnswer('versions', await versions.list(request), request);
    },
    async getVersion(id) {
      const version = await versions.getById(id);
      if (!version) throw new NotFound('Version', id);
      return version;
    },
    async deleteVersion(id) {
      if (!(await versions.delete(id, () => usage.assertUnused('version', id))))
        throw new NotFound('Version', id);
    },
  };
}
