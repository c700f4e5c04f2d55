import * as z from 'zod';
import { listQuery, listResponse, Timestamp } from './common';
import { RepositoryUrl } from './repository-url';
import { MultilineText, SingleLineText } from './text';

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

/**
 * A git tag name that is safe to hand to git, a shell or an image reference: the characters
 * tags are made of in practice (letters, digits, `. _ / + @ -`), under git's own rules
 * (`git check-ref-format`: no `..`, `@{`, `//`, `/.`, not starting with `-` or `.`, not
 * ending with `.`, `/` or `.lock`). Agents pass it to git and into image tags.
 */
const GitTag = SingleLineText(256).regex(
  /^(?![-.])(?!.*(?:\.\.|@\{|\/\/|\/\.))(?!.*(?:\.lock|[./])$)[A-Za-z0-9._/+@-]+$/,
  'a git tag name: letters, digits and . _ / + @ -, no "..", not starting with - or .',
);

export const CreateVersionRequest = z
  .strictObject({
    git_tag: GitTag,
    git_commit: z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F]{6,64}$/, 'a hexadecimal commit id of 6 to 64 characters'),
    repository: RepositoryUrl,
    description: MultilineText(4096).default(''),
  })
  .meta({ id: 'CreateVersionRequest' });
export type CreateVersionRequest = z.infer<typeof CreateVersionRequest>;

export const ListVersionsRequest = listQuery({ repository: RepositoryUrl.optional() });
export type ListVersionsRequest = z.infer<typeof ListVersionsRequest>;

export const VersionListResponse = listResponse('versions', Version).meta({ id: 'VersionList' });
export type VersionListResponse = z.infer<typeof VersionListResponse>;
