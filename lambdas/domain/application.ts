import * as z from 'zod';
import { ConfigMap, listQuery, listResponse, Timestamp } from './common';
import { RepositoryUrl } from './repository-url';
import { isSecretConfigEntry } from './secrets';
import { checkConfigText, SingleLineText } from './text';

export const Application = z
  .object({
    id: z.string(),
    name: z.string(),
    repository: z.string(),
    type: z.string(),
    config: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Application' });
export type Application = z.infer<typeof Application>;

const ApplicationType = SingleLineText(64).regex(
  /^[a-z0-9][a-z0-9_-]*$/,
  'lower-case letters, digits, - and _',
);

/**
 * An application's config is shown to every reader and sent to agents, so it takes no
 * credentials: those belong in an environment's config (write-only) or the agent's own store.
 */
const ApplicationConfig = ConfigMap.superRefine((config, context) => {
  checkConfigText(config, context);
  for (const [key, value] of Object.entries(config)) {
    if (isSecretConfigEntry(key, value)) {
      context.addIssue({
        code: 'custom',
        path: [key],
        message:
          "looks like a credential: an application's config is visible to every reader; put it in the environment's config (write-only) or the agent's own store",
      });
    }
  }
});

export const CreateApplicationRequest = z
  .strictObject({
    name: SingleLineText(128),
    // part of the by-repository list partition key, hence bounded in bytes like a version's
    repository: RepositoryUrl,
    type: ApplicationType,
    config: ApplicationConfig.default({}),
  })
  .meta({ id: 'CreateApplicationRequest' });
export type CreateApplicationRequest = z.infer<typeof CreateApplicationRequest>;

/** PUT replaces every mutable field; `repository` identifies the application and stays. */
export const UpdateApplicationRequest = z
  .strictObject({
    name: SingleLineText(128),
    type: ApplicationType,
    config: ApplicationConfig,
  })
  .meta({ id: 'UpdateApplicationRequest' });
export type UpdateApplicationRequest = z.infer<typeof UpdateApplicationRequest>;

export const ListApplicationsRequest = listQuery({
  repository: RepositoryUrl.optional(),
  type: ApplicationType.optional(),
});
export type ListApplicationsRequest = z.infer<typeof ListApplicationsRequest>;

export const ApplicationListResponse = listResponse('applications', Application).meta({
  id: 'ApplicationList',
});
export type ApplicationListResponse = z.infer<typeof ApplicationListResponse>;
