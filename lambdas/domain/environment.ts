import { z } from 'zod';
import { BooleanQuery, ConfigMap, listQuery, listResponse, Text, Timestamp } from './common';

export const EnvironmentType = z.enum(['kubernetes', 'physical']);
export type EnvironmentType = z.infer<typeof EnvironmentType>;

/**
 * Config keys the API accepts but never returns, logs or sends to agents; the stored value
 * is kept apart from `config` and answered as this marker.
 */
export const REDACTED = '[redacted]';

export const Environment = z
  .object({
    id: z.string(),
    name: z.string(),
    type: EnvironmentType,
    config: z.record(z.string(), z.unknown()),
    is_active: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Environment' });
export type Environment = z.infer<typeof Environment>;

export const CreateEnvironmentRequest = z
  .strictObject({
    name: Text(128),
    type: EnvironmentType,
    config: ConfigMap.default({}),
    is_active: z.boolean().default(true),
  })
  .meta({ id: 'CreateEnvironmentRequest' });
export type CreateEnvironmentRequest = z.infer<typeof CreateEnvironmentRequest>;

export const UpdateEnvironmentRequest = z
  .strictObject({
    name: Text(128),
    type: EnvironmentType,
    config: ConfigMap,
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
