import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { CORS_ORIGINS_VARIABLE } from '../../lambdas/http/cors';
import { createVersionService } from '../../lambdas/services/version-service';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import { type ApiCall, apiEvent, lambdaContext, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';

const table = useTestTable();
const store = { client: table.documentClient, tableName: table.tableName };

/** The handler as a function deployed with `-c corsOrigins=…` (or without) builds it. */
function versionsHandler(corsOrigins: string | undefined) {
  if (corsOrigins !== undefined) vi.stubEnv(CORS_ORIGINS_VARIABLE, corsOrigins);
  return createVersionsHandler(createVersionService(createVersionRepository(store), createUsageGuard(store)));
}

async function headersOf(
  handler: ReturnType<typeof versionsHandler>,
  call: ApiCall,
  origin: string,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  const event = apiEvent(call);
  const answer = await handler({ ...event, headers: { ...event.headers, Origin: origin } }, lambdaContext);
  return { status: answer.statusCode, headers: answer.headers ?? {} };
}

const LIST: ApiCall = { method: 'GET', path: '/api/v1/versions' };
const NOT_FOUND: ApiCall = { method: 'GET', path: '/api/v1/versions/ver_00000000000000000000000000' };
const FORBIDDEN: ApiCall = { method: 'DELETE', path: '/api/v1/versions/ver_1', claims: READER };

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('answers to a browser', () => {
  it('name an allowed origin, on successes and errors alike', async () => {
    const handler = versionsHandler('https://console.example.com, https://ops.example.com');
    for (const [call, status] of [
      [LIST, 200],
      [NOT_FOUND, 404],
      [FORBIDDEN, 403],
    ] as const) {
      const answer = await headersOf(handler, call, 'https://ops.example.com');
      expect(answer.status).toBe(status);
      expect(answer.headers).toMatchObject({
        'access-control-allow-origin': 'https://ops.example.com',
        vary: 'Origin',
        'content-type': 'application/json; charset=utf-8',
      });
    }
  });

  it('name no other origin, and none at all when CORS is off', async () => {
    const allowed = versionsHandler('https://console.example.com');
    const other = await headersOf(allowed, LIST, 'https://evil.example.com');
    expect(other.status).toBe(200);
    expect(other.headers).not.toHaveProperty('access-control-allow-origin');

    vi.unstubAllEnvs();
    const off = await headersOf(versionsHandler(undefined), LIST, 'https://console.example.com');
    expect(off.status).toBe(200);
    expect(off.headers).not.toHaveProperty('access-control-allow-origin');
  });
});
