import * as z from 'zod';

/**
 * The channel an environment's stored credentials (its write-only config keys) take to the
 * agents: one Secrets Manager secret per environment, named `<prefix><environment id>`.
 * The environments API function writes, replaces and deletes it; only the agent role reads
 * it (its resource policy and the IAM policies say so). Nothing else carries the values:
 * not the queue message, the task payload, a result, a log line or an API answer.
 *
 * Each fetch is recorded by the agent in the service's table under
 * `CREDACCESS#<environment id>`; admins read the records at
 * `GET /api/v1/environments/{id}/credential-access`.
 */
export const STORED_CREDENTIALS = {
  /** the secret name prefix when the stack sets none: `<prefix><environment id>` */
  defaultSecretPrefix: 'deploy-manager/environments/',
  /** partition key prefix of the access records */
  accessKeyPrefix: 'CREDACCESS#',
  /** how long access records are kept (the table's TTL deletes them after) */
  accessRetentionDays: 400,
} as const;

export const credentialsSecretName = (prefix: string, environmentId: string): string =>
  `${prefix}${environmentId}`;

/** The secret's `SecretString`: the environment's secret config keys and their values. */
export const StoredCredentials = z.record(z.string(), z.unknown());
export type StoredCredentials = z.infer<typeof StoredCredentials>;

export const credentialAccessPartition = (environmentId: string): string =>
  `${STORED_CREDENTIALS.accessKeyPrefix}${environmentId}`;

/** `2026-12-01T22:30:00.000Z#tsk_…#A0001`: newest last, one per task attempt. */
export const credentialAccessSortKey = (at: string, taskId: string, attempt: number): string =>
  `${at}#${taskId}#A${String(attempt).padStart(4, '0')}`;

/** One access record, as an agent puts it (PutItem) and the API reads it. */
export const CredentialAccessRecord = z.object({
  pk: z.string().startsWith(STORED_CREDENTIALS.accessKeyPrefix),
  sk: z.string(),
  environment_id: z.string(),
  task_id: z.string(),
  deployment_id: z.string(),
  attempt: z.number().int().min(1),
  /** who fetched: the agent config's `agent_id` */
  agent_id: z.string(),
  /** ISO-8601 UTC with milliseconds */
  at: z.string(),
  /** the names of the keys the agent used, never their values */
  keys: z.array(z.string()),
  /** what the agent used them for: `kubernetes`, `ssh`, or `none` when its own config won */
  used_for: z.string(),
  /** epoch seconds: the table's TTL attribute */
  expires_at: z.number().int(),
});
export type CredentialAccessRecord = z.infer<typeof CredentialAccessRecord>;

export interface CredentialAccess {
  readonly environmentId: string;
  readonly taskId: string;
  readonly deploymentId: string;
  readonly attempt: number;
  readonly agentId: string;
  readonly keys: readonly string[];
  readonly usedFor: string;
}

/** The item of one fetch; `now` in epoch milliseconds. */
export function credentialAccessItem(access: CredentialAccess, now: number): CredentialAccessRecord {
  const at = new Date(now).toISOString();
  return {
    pk: credentialAccessPartition(access.environmentId),
    sk: credentialAccessSortKey(at, access.taskId, access.attempt),
    environment_id: access.environmentId,
    task_id: access.taskId,
    deployment_id: access.deploymentId,
    attempt: access.attempt,
    agent_id: access.agentId,
    at,
    keys: [...access.keys].sort(),
    used_for: access.usedFor,
    expires_at: Math.floor(now / 1000) + STORED_CREDENTIALS.accessRetentionDays * 24 * 3600,
  };
}
