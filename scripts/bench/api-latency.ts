import { performance } from 'node:perf_hooks';
import { createVersionsHandler } from '../../lambdas/api/versions';
import type { Caller } from '../../lambdas/http/auth';
import type { RequestContext } from '../../lambdas/services/request-context';
import { createVersionService, type VersionService } from '../../lambdas/services/version-service';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import { ADMIN, type ApiCall, apiEvent, lambdaContext } from '../../test/support/api-events';
import { forEachLimited } from './concurrency';
import type { BenchContext, BenchTable } from './context';
import { markdownTable } from './markdown';
import { type LatencySummary, ms, summarize } from './stats';

/** Table sizes the reads are measured at; each round tops the table up to the next size. */
const SIZES = [1_000, 10_000] as const;
const SAMPLES = 500;
const WARM_UP = 50;
/**
 * DynamoDB Local is a JVM: until its JIT has compiled the hot paths, the first thousands of
 * requests are several times slower. A throwaway table takes that cost before any figure.
 */
const JVM_WARM_UP = { items: 1_000, callsPerOperation: 300 } as const;
/** Writes in flight while loading; DynamoDB Local on two cores saturates around here. */
const LOAD_CONCURRENCY = 16;
/** Repositories the loaded versions are spread over, so a filtered page has ~SIZE/50 candidates. */
const REPOSITORIES = 50;

const repositoryOf = (index: number) => `https://github.com/bench/repo-${index % REPOSITORIES}`;
const FILTERED_REPOSITORY = repositoryOf(7);

const BENCH_CALLER: Caller = { sub: 'bench', email: 'bench@example.com', groups: ['admins'] };

const LOADER: RequestContext = {
  caller: BENCH_CALLER,
  requestId: 'bench-load',
};

type Handler = ReturnType<typeof createVersionsHandler>;

interface Operation {
  readonly name: string;
  readonly status: number;
  /** the call of the i-th sample */
  readonly call: (sample: number) => ApiCall;
}

interface Measurement extends LatencySummary {
  readonly operation: string;
  readonly items: number;
  readonly requestsPerCall: number;
}

/** Loads versions through the service (not raw writes), so items and counters are exactly the API's. */
async function load(service: VersionService, from: number, to: number, ids: string[]): Promise<void> {
  await forEachLimited(to - from, LOAD_CONCURRENCY, async (offset) => {
    const index = from + offset;
    const version = await service.createVersion(LOADER, {
      git_tag: `v${index}.0.0`,
      git_commit: index.toString(16).padStart(12, '0'),
      repository: repositoryOf(index),
      description: `bench version ${index}`,
    });
    ids.push(version.id);
  });
}

async function invoke(handler: Handler, operation: Operation, sample: number): Promise<number> {
  const event = apiEvent({ claims: ADMIN, ...operation.call(sample) });
  const started = performance.now();
  const result = await handler(event, lambdaContext);
  const elapsed = performance.now() - started;
  if (result.statusCode !== operation.status) {
    throw new Error(
      `${operation.name}: expected ${operation.status}, got ${result.statusCode}: ${result.body}`,
    );
  }
  return elapsed;
}

/** One request at a time, so the figure is latency, not throughput under contention. */
async function measure(
  handler: Handler,
  table: BenchTable,
  operation: Operation,
  items: number,
): Promise<Measurement> {
  for (let sample = 0; sample < WARM_UP; sample += 1) await invoke(handler, operation, sample);
  const requestsBefore = table.requests();
  const samples: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    samples.push(await invoke(handler, operation, WARM_UP + sample));
  }
  return {
    operation: operation.name,
    items,
    requestsPerCall: (table.requests() - requestsBefore) / SAMPLES,
    ...summarize(samples),
  };
}

function operations(ids: readonly string[]): Operation[] {
  const pick = (sample: number) => ids[(sample * 7919) % ids.length] ?? '';
  return [
    {
      name: 'GET /versions/{id}',
      status: 200,
      call: (sample) => ({ method: 'GET', path: `/api/v1/versions/${pick(sample)}` }),
    },
    {
      name: 'GET /versions (page 1 of 20)',
      status: 200,
      call: () => ({ method: 'GET', path: '/api/v1/versions', query: { page_size: '20' } }),
    },
    {
      name: 'GET /versions?repository= (page 1 of 20)',
      status: 200,
      call: () => ({
        method: 'GET',
        path: '/api/v1/versions',
        query: { repository: FILTERED_REPOSITORY, page_size: '20' },
      }),
    },
    // Last, so the versions it adds do not change the size the reads ran at.
    {
      name: 'POST /versions',
      status: 201,
      call: (sample) => ({
        method: 'POST',
        path: '/api/v1/versions',
        body: {
          git_tag: `v-bench-${sample}`,
          git_commit: 'abcdef012345',
          repository: repositoryOf(sample),
          description: 'created while measuring',
        },
      }),
    },
  ];
}

async function warmUp(context: BenchContext): Promise<void> {
  const table = await context.newTable();
  const service = createVersionService(createVersionRepository(table.store), createUsageGuard(table.store));
  const handler = createVersionsHandler(service);
  const ids: string[] = [];
  await load(service, 0, JVM_WARM_UP.items, ids);
  for (const operation of operations(ids)) {
    for (let call = 0; call < JVM_WARM_UP.callsPerOperation; call += 1)
      await invoke(handler, operation, call);
  }
}

/**
 * Latency of the real versions handler (middy, zod, auth, repository, DynamoDB Local) called
 * in-process, at two table sizes.
 */
export async function runApiLatencyBench(context: BenchContext): Promise<string> {
  await warmUp(context);
  const table = await context.newTable();
  const service = createVersionService(createVersionRepository(table.store), createUsageGuard(table.store));
  const handler = createVersionsHandler(service);
  const ids: string[] = [];
  const results: Measurement[] = [];
  const loadTimes: string[] = [];
  let loaded = 0;
  for (const size of SIZES) {
    const started = performance.now();
    // Creates measured in the previous round count toward this size.
    await load(service, loaded, size, ids);
    const seconds = (performance.now() - started) / 1000;
    loadTimes.push(`${size - loaded} versions in ${seconds.toFixed(1)} s`);
    loaded = size;
    for (const operation of operations(ids)) {
      const measurement = await measure(handler, table, operation, size);
      results.push(measurement);
      if (operation.status === 201) loaded += WARM_UP + SAMPLES;
    }
  }
  const rows = results.map((result) => [
    result.operation,
    result.items.toLocaleString('en-US'),
    result.samples,
    ms(result.p50),
    ms(result.p99),
    ms(result.max),
    result.requestsPerCall.toFixed(1),
  ]);
  return [
    markdownTable(
      ['operation', 'items', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'DynamoDB requests / call'],
      rows,
      [false, true, true, true, true, true, true],
    ),
    '',
    `Warm-up: ${JVM_WARM_UP.items} versions and ${JVM_WARM_UP.callsPerOperation} calls per operation on a ` +
      `throwaway table, then ${WARM_UP} calls per operation before each measurement. One call at a time. Versions spread over ` +
      `${REPOSITORIES} repositories. Load (service create, ${LOAD_CONCURRENCY} in flight): ${loadTimes.join('; ')}.`,
  ].join('\n');
}
