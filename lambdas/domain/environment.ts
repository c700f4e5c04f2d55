import * as z from 'zod';
import { BooleanQuery, ConfigMap, listQuery, listResponse, Timestamp } from './common';
import { isSecretConfigKey, isSecretConfigValue, REDACTED } from './secrets';
import { checkConfigText, SingleLineText } from './text';

export const EnvironmentType = z.enum(['kubernetes', 'physical']);
export type EnvironmentType = z.infer<typeof EnvironmentType>;

/**
 * Config keys the API accepts but never returns, logs or sends to agents; the stored value
 * is kept apart from `config` and answered as this marker (see secrets.ts).
 */
export { REDACTED };

/**
 * Last line of defence: every response is parsed with this schema, so a secret that ever
 * reached `config` becomes a 500 instead of a leak.
 */
const RedactedConfig = z
  .record(z.string(), z.unknown())
  .refine(
    (config) =>
      Object.entries(config).every(
        ([key, value]) => value === REDACTED || !(isSecretConfigKey(key) || isSecretConfigValue(value)),
      ),
    `secret config values are answered as "${REDACTED}"`,
  );

export const Environment = z
  .object({
    id: z.string(),
    name: z.string(),
    type: EnvironmentType,
    config: RedactedConfig,
    is_active: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Environment' });
export type Environment = z.infer<typeof Environment>;

/** The text rules of every free-text field also hold for config keys and values. */
const EnvironmentConfig = ConfigMap.superRefine(checkConfigText);

export const CreateEnvironmentRequest = z
  .strictObject({
    name: SingleLineText(128),
    type: EnvironmentType,
    config: EnvironmentConfig.default({}),
    is_active: z.boolean().default(true),
  })
  .meta({ id: 'CreateEnvironmentRequest' });
export type CreateEnvironmentRequest = z.infer<typeof CreateEnvironmentRequest>;

export const UpdateEnvironmentRequest = z
  .strictObject({
    name: SingleLineText(128),
    type: EnvironmentType,
    config: EnvironmentConfig,
    is_active: z.boolean(),
  })
  .meta({ id: 'UpdateEnvironmentRequest' });
export type UpdateEnvironmentRequest = z.infer<typeof UpdateEnvironmentRequest>;

export const ListEnvironmentsRequest = listQuery({
  type: EnvironmentType.optional(),
  is_active: BooleanQuery.optional(),
});
export type ListEnvironmentsRequest = z.infer<typeof ListEnvironmentsRequest>;

export const EnvironmentListResponse = listResponse('environments', Environment).meta({
  id: 'EnvironmentList',
});
export type EnvironmentListResponse = z.infer<typeof EnvironmentListResponse>;
