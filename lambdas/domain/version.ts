import * as z from 'zod';
import { listQuery, listResponse, RepositoryUrl, Text, Timestamp } from './common';

export const Version = z
  .object({
    id: z.string(),
    git_tag: z.string(),
    git_commit: z.string(),
    repository: z.string(),
    created_by: z.string(),
    created_at: Timestamp,
    description: z.string(),
  })
  .meta({ id: 'Version' });
export type Version = z.infer<typeof Version>;

export const CreateVersionRequest = z
  .strictObject({
    git_tag: Text(256),
    git_commit: z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F]{6,64}$/, 'a hexadecimal commit id of 6 to 64 characters'),
    repository: RepositoryUrl,
    description: z.string().max(4096).default(''),
  })
  .meta({ id: 'CreateVersionRequest' });
export type CreateVersionRequest = z.infer<typeof CreateVersionRequest>;

export const ListVersionsRequest = listQuery({ repository: RepositoryUrl.optional() });
export type ListVersionsRequest = z.infer<typeof ListVersionsRequest>;

export const VersionListResponse = listResponse('versions', Version).meta({ id: 'VersionList' });
export type VersionListResponse = z.infer<typeof VersionListResponse>;
