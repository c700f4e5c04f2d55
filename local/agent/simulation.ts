import { createHash } from 'node:crypto';
import type { TaskFailureReport, TaskMessageV1, TaskSuccessOutput } from '../../lambdas/agent-protocol';

/**
 * What the simulated agent does with a task, decided from the task message alone: the
 * application's config (merged into `payload.config`) carries the simulation controls.
 *
 * - `simulate_fail`: task types (comma list or array) that fail on their first attempt in
 *   a deployment and succeed when retried;
 * - `simulate_delay_ms`: how long each task takes.
 */
export interface Simulation {
  readonly delayMs: number;
  readonly fail: boolean;
}

type JsonRecord = Readonly<Record<string, unknown>>;

/** The longest a simulated task may take: a typo must not park a task for hours. */
export const MAX_SIMULATED_DELAY_MS = 10 * 60 * 1000;

const isRecord = (value: unknown): value is JsonRecord =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function recordAt(source: JsonRecord, key: string): JsonRecord {
  const value = source[key];
  return isRecord(value) ? value : {};
}

function stringAt(source: JsonRecord, key: string): string | undefined {
  const value = source[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function numberAt(source: JsonRecord, key: string): number | undefined {
  const value = source[key];
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/** `"health_check, deploy"` or `["health_check"]` → the set of task types. */
export function failingTypes(value: unknown): ReadonlySet<string> {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return new Set(
    items
      .filter((item): item is string => typeof item === 'string')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
}

export function simulationOf(message: TaskMessageV1, defaultDelayMs: number): Simulation {
  const config = recordAt(message.payload, 'config');
  const delay = numberAt(config, 'simulate_delay_ms') ?? defaultDelayMs;
  return {
    delayMs: Math.min(MAX_SIMULATED_DELAY_MS, Math.max(0, Math.round(delay))),
    // Only the first attempt fails, so `POST /tasks/{id}/retry` demonstrably recovers.
    fail: message.attempt === 1 && failingTypes(config.simulate_fail).has(message.task_type),
  };
}

/** Stable pseudo-random figures per task, so a result reads plausibly and repeats on a redelivery. */
function figure(message: TaskMessageV1, salt: string, modulo: number): number {
  const digest = createHash('sha256').update(`${message.task_id}:${message.attempt}:${salt}`).digest();
  return digest.readUInt32BE(0) % modulo;
}

function shortDigest(message: TaskMessageV1): string {
  return createHash('sha256').update(`${message.task_id}:${message.attempt}`).digest('hex');
}

function coordinates(message: TaskMessageV1): { app: string; tag: string } {
  const application = recordAt(message.payload, 'application');
  const version = recordAt(message.payload, 'version');
  return {
    app: stringAt(application, 'name') ?? message.application_id,
    tag: stringAt(version, 'git_tag') ?? message.version_id,
  };
}

/** A plausible result per task type; unknown types just report that they ran. */
export function simulatedResult(message: TaskMessageV1): TaskSuccessOutput {
  const config = recordAt(message.payload, 'config');
  const { app, tag } = coordinates(message);
  switch (message.task_type) {
    case 'build': {
      const tags = Array.isArray(config.tags) ? config.tags : [];
      const firstTag = tags.find((item): item is string => typeof item === 'string' && item.length > 0);
      const image = firstTag ?? `${app}:${tag}`;
      return {
        image,
        artifact_url: `https://artifacts.local.invalid/${encodeURIComponent(app)}/${encodeURIComponent(tag)}.tar.gz`,
        digest: `sha256:${shortDigest(message)}`,
      };
    }
    case 'test': {
      const threshold = numberAt(config, 'coverage_threshold') ?? 80;
      const coverage = Math.min(100, threshold + figure(message, 'coverage', 150) / 10);
      return {
        passed: 40 + figure(message, 'passed', 200),
        failed: 0,
        coverage: Number(coverage.toFixed(1)),
      };
    }
    case 'deploy':
    case 'deploy_green':
      return {
        replicas: numberAt(config, 'replicas') ?? 3,
        revision: 1 + figure(message, 'revision', 500),
        ...(message.task_type === 'deploy_green'
          ? { environment: stringAt(config, 'environment') ?? 'green' }
          : {}),
      };
    case 'health_check': {
      const target = stringAt(config, 'target');
      return {
        status: numberAt(config, 'expected_status') ?? 200,
        endpoint: stringAt(config, 'endpoint') ?? '/health',
        ...(target === undefined ? {} : { target }),
      };
    }
    case 'switch_traffic':
      return { from: stringAt(config, 'from') ?? 'blue', to: stringAt(config, 'to') ?? 'green' };
    case 'cleanup_blue':
      return { removed: 'blue' };
    default:
      return { done: true };
  }
}

const pascal = (type: string) =>
  type
    .split(/[_\-\s]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** The failure a `simulate_fail` task reports: an error code and a cause people can read. */
export function simulatedFailure(message: TaskMessageV1): TaskFailureReport {
  const config = recordAt(message.payload, 'config');
  if (message.task_type === 'health_check') {
    const endpoint = stringAt(config, 'endpoint') ?? '/health';
    const expected = numberAt(config, 'expected_status') ?? 200;
    return {
      error: 'HealthCheckFailed',
      cause: `GET ${endpoint} answered 503, expected ${expected} (simulated by simulate_fail)`,
    };
  }
  return {
    error: `${pascal(message.task_type) || 'Task'}Failed`,
    cause: `${message.task_type} failed on attempt ${message.attempt} (simulated by simulate_fail)`,
  };
}
