import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { CredentialAccessRecord, credentialAccessPartition } from '../agent-protocol/stored-credentials';
import type { CredentialAccessView } from '../domain/credential-access';
import { InvalidInput } from '../domain/errors';
import type { StoreContext } from './store-context';

export interface CredentialAccessPage {
  readonly accesses: readonly CredentialAccessView[];
  /** continues after the last record answered; null when there is none after it */
  readonly nextCursor: string | null;
}

/** The agents' records of their fetches of an environment's stored credentials, newest first. */
export interface CredentialAccessLog {
  list(environmentId: string, cursor: string | undefined, limit: number): Promise<CredentialAccessPage>;
}

const AccessCursor = z.strictObject({ s: z.string().min(1).max(512) });
const encode = (sortKey: string) => Buffer.from(JSON.stringify({ s: sortKey }), 'utf8').toString('base64url');

function decode(cursor: string): string {
  try {
    return AccessCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).s;
  } catch {
    throw new InvalidInput('Invalid request query', [
      { field: 'cursor', message: 'not a credential access cursor this API handed out' },
    ]);
  }
}

const viewOf = (record: CredentialAccessRecord): CredentialAccessView => ({
  at: record.at,
  agent_id: record.agent_id,
  task_id: record.task_id,
  deployment_id: record.deployment_id,
  attempt: record.attempt,
  keys: record.keys,
  used_for: record.used_for,
});

export function createCredentialAccessLog(context: StoreContext): CredentialAccessLog {
  return {
    async list(environmentId, cursor, limit) {
      const pk = credentialAccessPartition(environmentId);
      const accesses: CredentialAccessView[] = [];
      let start: Record<string, unknown> | undefined =
        cursor === undefined ? undefined : { pk, sk: decode(cursor) };
      let lastKey: string | undefined;
      do {
        const page = await context.client.send(
          new QueryCommand({
            TableName: context.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ScanIndexForward: false,
            Limit: limit - accesses.length,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        for (const item of page.Items ?? []) {
          lastKey = String(item.sk);
          const record = CredentialAccessRecord.safeParse(item);
          // A malformed record (an agent's bug) is skipped, never answered as a 500.
          if (record.success) accesses.push(viewOf(record.data));
        }
        start = page.LastEvaluatedKey;
      } while (start !== undefined && accesses.length < limit);
      return { accesses, nextCursor: start === undefined || lastKey === undefined ? null : encode(lastKey) };
    },
  };
}
