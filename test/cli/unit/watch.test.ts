import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../../cli/api-client';
import { EXIT } from '../../../cli/exit-codes';
import { watchDeployment } from '../../../cli/watch/watch';

const DEP = `dep_${'1'.repeat(26)}`;
const deployment = (status: string, error = '') => ({
  id: DEP,
  version_id: 'ver_1',
  application_ids: ['app_1'],
  environment_id: 'env_1',
  status,
  created_by: 'me@example.com',
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  started_at: '2026-12-01T10:00:00Z',
  completed_at: status === 'success' || status === 'failed' ? '2026-12-01T10:00:04Z' : null,
  error_message: error,
  strategy: 'standard',
  rollback_of: null,
});

type Route = (path: string, signal: AbortSignal | undefined) => Promise<Response> | Response;

function api(route: Route): { client: ApiClient; paths: string[] } {
  const paths: string[] = [];
  const fetchStub = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    paths.push(url.pathname + url.search);
    return route(url.pathname.replace('/api/v1', ''), init?.signal ?? undefined);
  };
  return {
    client: new ApiClient({
      apiUrl: 'http://api.test/api/v1',
      token: async () => 't',
      fetch: fetchStub as typeof fetch,
    }),
    paths,
  };
}

const catalog = (path: string): Response | undefined => {
  if (path === '/versions/ver_1') return Response.json({ git_tag: 'v1.0.0' });
  if (path.startsWith('/environments/')) return Response.json({ name: 'staging' });
  if (path.startsWith('/applications/')) return Response.json({ name: 'api' });
  if (path === '/tasks') return Response.json({ tasks: [], next_cursor: null });
  return undefined;
};

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
const sink = () => new Sink() as Sink & NodeJS.WriteStream;

describe('watching a deployment', () => {
  it('ends at once when the deployment has already finished, with its exit code', async () => {
    const { client, paths } = api(
      (path) => catalog(path) ?? Response.json(deployment('failed', 'Deployment cancelled by user')),
    );
    const out = sink();
    const result = await watchDeployment(client, DEP, { output: 'text', stdout: out, intervalMs: 10 });
    expect(result.exitCode).toBe(EXIT.cancelled);
    expect(paths.filter((path) => path === `/api/v1/deployments/${DEP}`)).toHaveLength(1);
    expect(out.text.trim().split('\n').at(-1)).toBe(`✗ deployment ${DEP} was cancelled in 4s`);
  });

  it('waits for a deployment that is not visible yet (404), then follows it', async () => {
    const answers = ['missing', 'missing', 'running', 'success'];
    const { client } = api((path) => {
      const known = catalog(path);
      if (known) return known;
      const next = answers.shift() ?? 'success';
      return next === 'missing'
        ? Response.json({ error: { code: 'NOT_FOUND', message: 'Deployment not found' } }, { status: 404 })
        : Response.json(deployment(next));
    });
    const out = sink();
    const result = await watchDeployment(client, DEP, { output: 'ndjson', stdout: out, intervalMs: 1 });
    expect(result.exitCode).toBe(EXIT.success);
    const states = out.text
      .trim()
      .split('\n')
      .map(
        (line) => (JSON.parse(line) as { deployment: { status: string } | null }).deployment?.status ?? null,
      );
    expect(states).toEqual([null, 'running', 'success']);
  });

  it('never hangs past --timeout: the request in flight is aborted, exit 3', async () => {
    let aborted = false;
    const { client } = api(
      (_path, signal) =>
        new Promise<Response>((_resolve, reject) => {
          // An API that never answers.
          signal?.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
    );
    await expect(
      watchDeployment(client, DEP, { output: 'text', stdout: sink(), timeoutMs: 50 }),
    ).rejects.toMatchObject({
      exitCode: EXIT.timedOut,
      message: `timed out after 50ms waiting for deployment ${DEP}; it is not visible yet`,
    });
    expect(aborted).toBe(true);
  });
});
