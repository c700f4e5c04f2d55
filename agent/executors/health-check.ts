import { setTimeout as sleep } from 'node:timers/promises';
import { optionalNumber, optionalString } from './config-values';
import { type Executor, type TaskContext, TaskFailure } from './executor';

/**
 * `health_check`: GETs `config.endpoint` (default `/health`) on the environment's base URL
 * until it has answered `config.expected_status` (200) `config.consecutive_successes` (3)
 * times in a row, every `config.interval_seconds` (2), for at most `config.timeout` seconds
 * (60). The base URL: for `config.target: green` the config's `green_base_url` when set; else
 * the config's `base_url` (environment config); else the agent target's `base_url`.
 */
export class HealthCheckExecutor implements Executor {
  readonly type = 'health_check';

  async execute(context: TaskContext) {
    const { payload, signal, log } = context;
    const config = payload.config;
    const url = healthCheckUrl(context);
    const expected = optionalNumber(config, 'expected_status') ?? 200;
    const needed = Math.max(1, optionalNumber(config, 'consecutive_successes') ?? 3);
    const timeoutMs = (optionalNumber(config, 'timeout') ?? 60) * 1000;
    const intervalMs = (optionalNumber(config, 'interval_seconds') ?? 2) * 1000;
    const deadline = Date.now() + timeoutMs;

    let attempts = 0;
    let streak = 0;
    let last = 'no answer yet';
    log.info(`GET ${url}: expecting ${expected} ${needed} time(s) in a row within ${timeoutMs / 1000} s`);
    for (;;) {
      attempts += 1;
      const remaining = Math.max(1, deadline - Date.now());
      try {
        const response = await fetch(url, {
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(Math.min(10_000, remaining))]),
        });
        await response.body?.cancel();
        last = `status ${response.status}`;
        streak = response.status === expected ? streak + 1 : 0;
      } catch (error) {
        if (signal.aborted) throw error;
        last =
          error instanceof Error
            ? `${error.name}: ${error.cause instanceof Error ? error.cause.message : error.message}`
            : String(error);
        streak = 0;
      }
      log.info(`attempt ${attempts}: ${last} (${streak}/${needed})`);
      if (streak >= needed) return { status: expected, attempts, url };
      if (Date.now() + intervalMs > deadline)
        throw new TaskFailure(
          'HealthCheckFailed',
          `GET ${url} did not answer ${expected} ${needed} time(s) in a row within ${timeoutMs / 1000} s; last: ${last} (after ${attempts} attempts)`,
        );
      await sleep(intervalMs, undefined, { signal });
    }
  }
}

export function healthCheckUrl(context: Pick<TaskContext, 'payload' | 'target'>): string {
  const { payload, target } = context;
  const config = payload.config;
  const green =
    optionalString(config, 'target') === 'green' ? optionalString(config, 'green_base_url') : undefined;
  const base = green ?? optionalString(config, 'base_url') ?? target.base_url;
  if (base === undefined)
    throw new TaskFailure(
      'NoBaseUrl',
      `no base URL for environment ${payload.environment.name}: set base_url in the environment config or the agent's target`,
    );
  const endpoint = optionalString(config, 'endpoint') ?? '/health';
  // Relative to the base, so a base URL with a path prefix keeps it.
  return new URL(endpoint.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`).toString();
}
