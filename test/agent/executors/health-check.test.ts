import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskFailure } from '../../../agent/executors/executor';
import { HealthCheckExecutor, healthCheckUrl } from '../../../agent/executors/health-check';
import { freePort } from '../../../local/free-port';
import { agentTask } from '../support/messages';
import { taskContext } from '../support/task-context';

describe('health_check executor against a real HTTP server', () => {
  let server: Server;
  let baseUrl = '';
  /** per path: the statuses to answer in turn; the last one repeats */
  const script = new Map<string, number[]>();
  const hits = new Map<string, number>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      const count = hits.get(path) ?? 0;
      hits.set(path, count + 1);
      const statuses = script.get(path) ?? [404];
      response.writeHead(statuses[Math.min(count, statuses.length - 1)] ?? 404);
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const executor = new HealthCheckExecutor();

  it('retries until the expected status comes consecutive_successes times in a row', async () => {
    // 503, 200, 503 (the streak breaks), then 200 for good.
    script.set('/ready', [503, 200, 503, 200]);
    const message = agentTask({
      type: 'health_check',
      config: {
        endpoint: '/ready',
        expected_status: 200,
        consecutive_successes: 3,
        timeout: 30,
        interval_seconds: 0.02,
        base_url: baseUrl,
      },
    });
    const result = await executor.execute(taskContext(message));
    expect(result).toEqual({ status: 200, attempts: 6, url: `${baseUrl}/ready` });
  });

  it('fails past the timeout, naming the URL and the last status', async () => {
    script.set('/broken', [500]);
    const message = agentTask({
      type: 'health_check',
      config: { endpoint: '/broken', timeout: 0.3, interval_seconds: 0.05 },
    });
    const error = await executor
      .execute(taskContext(message, { base_url: baseUrl }))
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TaskFailure);
    expect(error).toMatchObject({ error: 'HealthCheckFailed' });
    expect((error as TaskFailure).cause).toContain(`GET ${baseUrl}/broken`);
    expect((error as TaskFailure).cause).toContain('last: status 500');
  });

  it('names the connection error when nothing listens', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const message = agentTask({
      type: 'health_check',
      config: { timeout: 0.2, interval_seconds: 0.05, base_url: closed },
    });
    const error = await executor.execute(taskContext(message)).catch((thrown: unknown) => thrown);
    expect((error as TaskFailure).cause).toContain(`GET ${closed}/health`);
    expect((error as TaskFailure).cause).toMatch(/last: .*ECONNREFUSED/);
  });

  it('picks the base URL: green_base_url for target green, then the config, then the agent target', () => {
    const url = (config: Record<string, unknown>, target: { base_url?: string } = {}) =>
      healthCheckUrl(taskContext(agentTask({ type: 'health_check', config }), target));
    expect(url({ target: 'green', green_base_url: 'http://green.internal', base_url: 'http://blue' })).toBe(
      'http://green.internal/health',
    );
    expect(url({ target: 'green', base_url: 'http://app.internal/prefix', endpoint: '/ready' })).toBe(
      'http://app.internal/prefix/ready',
    );
    expect(url({}, { base_url: 'http://target.internal' })).toBe('http://target.internal/health');
    expect(() => url({})).toThrow(/no base URL for environment staging/);
  });
});
