import * as z from 'zod';
import { MAX_CURSOR_LENGTH, queryInteger } from './common';

export const MAX_CREDENTIAL_ACCESSES_PER_ANSWER = 100;

export const CredentialAccessRequest = z.strictObject({
  cursor: z
    .string()
    .min(1)
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .describe('next_cursor of the previous answer: the older records after it'),
  limit: queryInteger('limit', MAX_CREDENTIAL_ACCESSES_PER_ANSWER, 20).describe('records per answer at most'),
});
export type CredentialAccessRequest = z.infer<typeof CredentialAccessRequest>;

export const CredentialAccessView = z
  .object({
    at: z.string().describe('when the agent fetched the stored credentials (ISO-8601 UTC, milliseconds)'),
    agent_id: z.string().describe('the fetching agent, as its config names it'),
    task_id: z.string(),
    deployment_id: z.string(),
    attempt: z.number().int().min(1).describe('the task attempt (1, then one more per retry)'),
    keys: z.array(z.string()).describe('the names of the keys fetched, never their values'),
    used_for: z
      .string()
      .describe('what the agent used them for: kubernetes, ssh, or none when its own config won'),
  })
  .meta({ id: 'CredentialAccess' });
export type CredentialAccessView = z.infer<typeof CredentialAccessView>;

export const CredentialAccessResponse = z
  .object({
    environment_id: z.string(),
    accesses: z.array(CredentialAccessView).describe('newest first'),
    next_cursor: z
      .string()
      .nullable()
      .describe('pass it back as `cursor` for older records; null at the end'),
  })
  .meta({ id: 'CredentialAccessResponse' });
export type CredentialAccessResponse = z.infer<typeof CredentialAccessResponse>;
