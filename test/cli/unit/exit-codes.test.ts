import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../../cli/api-client';
import { CliError, EXIT, errorLine, exitCodeForStatus, exitCodeOf } from '../../../cli/exit-codes';
import { Deployment } from '../../../lambdas/domain/deployment';

const answering = (status: number, body: unknown) =>
  new ApiClient({
    apiUrl: 'http://api.test/api/v1',
    token: async () => 't',
    fetch: (async () => Response.json(body, { status })) as typeof fetch,
  });

describe('exit codes', () => {
  it('maps the API statuses: 401/403 → 5, 400/404 → 2, anything else → 1', () => {
    expect(exitCodeForStatus(401)).toBe(EXIT.notSignedIn);
    expect(exitCodeForStatus(403)).toBe(EXIT.notSignedIn);
    expect(exitCodeForStatus(400)).toBe(EXIT.usage);
    expect(exitCodeForStatus(404)).toBe(EXIT.usage);
    expect(exitCodeForStatus(409)).toBe(EXIT.deploymentFailed);
    expect(exitCodeForStatus(503)).toBe(EXIT.deploymentFailed);
  });

  it("prints the API's message and code on one line", async () => {
    const api = answering(403, {
      error: { code: 'FORBIDDEN', message: 'Requires one of the groups: deployers, admins' },
    });
    const error = await api.post('/deployments', Deployment, {}).catch((caught: unknown) => caught);
    expect(exitCodeOf(error)).toBe(EXIT.notSignedIn);
    expect(errorLine(error)).toBe('error: Requires one of the groups: deployers, admins (FORBIDDEN)');
  });

  it('an answer that is not the error shape still gives one line with the status', async () => {
    const error = await answering(502, { message: 'Internal server error' })
      .get('/deployments/x', Deployment)
      .catch((caught: unknown) => caught);
    expect(errorLine(error)).toBe('error: Internal server error (HTTP_502)');
    expect(exitCodeOf(error)).toBe(EXIT.deploymentFailed);
  });

  it('an unreachable API is one line, not a stack trace', async () => {
    const api = new ApiClient({ apiUrl: 'http://127.0.0.1:9/api/v1', token: async () => 't' });
    const line = errorLine(await api.get('/versions', Deployment).catch((caught: unknown) => caught));
    expect(line).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:9\/api\/v1: .+ \(UNREACHABLE\)$/);
    expect(line).not.toContain('\n');
  });

  it('an unexpected error keeps only its first line', () => {
    expect(errorLine(new Error('boom\n    at somewhere (file.ts:1:1)'))).toBe('error: boom');
    expect(exitCodeOf(new CliError('late', EXIT.timedOut))).toBe(EXIT.timedOut);
  });
});
