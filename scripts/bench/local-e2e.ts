import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiClient, asObjects, asString, type JsonObject } from '../../test/e2e/support/api';
import { LocalRuntime } from '../../test/e2e/support/local-runtime';
import { isJava, memoryOf, type ProcessInfo, waitUntil } from '../../test/e2e/support/processes';
import { forEachLimited } from './concurrency';
import { markdownTable } from './markdown';
import { type LatencySummary, ms, summarize } from './stats';

/**
 * The local end-to-end path as a user meets it: `local/start.ts` (what `npm start`
 * runs) as a child process, driven over real HTTP. Time to ready, deployment latency (POST
 * to `success`) with the simulated agent and no simulated delay, throughput with 20
 * deployments in flight on 20 environments, API latency, and the peak memory of the whole
 * stack (Node and Java).
 */

const READY_SAMPLES = 3;
const DEPLOY_WARM_UP = 5;
const DEPLOY_SAMPLES = 30;
const IN_FLIGHT = 20;
const THROUGHPUT_ROUNDS = 3;
const API_WARM_UP = 50;
const API_SAMPLES = 300;
const PRELOADED_VERSIONS = 100;
/** How often a deployment is polled for `success`: the resolution of the latency figures. */
const POLL_MS = 5;
const MEMORY_SAMPLE_MS = 200;

const REPOSITORY = 'https://github.com/bench/service';

const seconds = (milliseconds: number) => (milliseconds / 1000).toFixed(2);
const mib = (kib: number) => (kib / 1024).toFixed(0);

/** Stops a runtime with Ctrl-C and waits until none of its processes is left. */
async function stop(runtime: LocalRuntime): Promise<void> {
  runtime.signalGroup('SIGINT');
  await runtime.exit(30_000);
  await waitUntil('the benchmarked stack to stop', () => runtime.leftovers().length === 0, 15_000);
}

/** Samples the resident memory of every process of the stack; the peak of their sum. */
class MemorySampler {
  #peakSumKiB = 0;
  readonly #peaks = new Map<number, { info: ProcessInfo; kib: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly runtime: LocalRuntime) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), MEMORY_SAMPLE_MS);
  }

  sample(): void {
    let sum = 0;
    for (const info of this.runtime.tree()) {
      const memory = memoryOf(info.pid);
      if (memory === undefined) continue;
      sum += memory.rssKiB;
      const kib = Math.max(memory.rssKiB, memory.peakKiB ?? 0);
      const known = this.#peaks.get(info.pid);
      if (known === undefined || known.kib < kib) this.#peaks.set(info.pid, { info, kib });
    }
    this.#peakSumKiB = Math.max(this.#peakSumKiB, sum);
  }

  stop(): { sampledPeakKiB: number; javaKiB: number; nodeKiB: number; processes: number } {
    clearInterval(this.#timer);
    this.sample();
    const peaks = [...this.#peaks.values()];
    const java = peaks.filter(({ info }) => isJava(info)).reduce((total, { kib }) => total + kib, 0);
    const all = peaks.reduce((total, { kib }) => total + kib, 0);
    return { sampledPeakKiB: this.#peakSumKiB, javaKiB: java, nodeKiB: all - java, processes: peaks.length };
  }
}

/** POST a deployment, then poll it until it has finished; milliseconds from POST to `success`. */
async function deployAndWait(api: ApiClient, body: JsonObject): Promise<{ total: number; post: number }> {
  const started = performance.now();
  const created = await api.expect(201, 'POST', '/deployments', { body });
  const post = performance.now() - started;
  const done = await api.waitForDeployment(asString(created.id), 60_000, POLL_MS);
  const total = performance.now() - started;
  if (done.status !== 'success') throw new Error(`deployment ${asString(created.id)} ended ${done.status}`);
  return { total, post };
}

async function timedRequest(api: ApiClient, status: number, method: string, path: string, body?: unknown) {
  const started = performance.now();
  const reply = await api.call(method, path, body === undefined ? {} : { body });
  const elapsed = performance.now() - started;
  if (reply.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${reply.status}`);
  return elapsed;
}

export async function runLocalE2eBench(): Promise<string> {
  const keysDir = await mkdtemp(join(tmpdir(), 'bench-local-e2e-'));
  const env = { LOCAL_KEYS_DIR: keysDir, QUIET: '1', PORT: '0' };
  const readyTimes: number[] = [];
  const runtimes: LocalRuntime[] = [];
  const launch = () => {
    const runtime = new LocalRuntime({ env });
    runtimes.push(runtime);
    return runtime;
  };
  try {
    // Cold starts: each one a new Node and a new JVM, as `npm start` is.
    for (let sample = 1; sample < READY_SAMPLES; sample += 1) {
      const started = performance.now();
      const runtime = launch();
      await runtime.ready();
      readyTimes.push(performance.now() - started);
      await stop(runtime);
    }
    const started = performance.now();
    const runtime = launch();
    const ready = await runtime.ready();
    readyTimes.push(performance.now() - started);
    const memory = new MemorySampler(runtime);
    const api = new ApiClient(ready.apiUrl, ready.adminToken);

    const version = await api.expect(201, 'POST', '/versions', {
      body: { git_tag: 'v1.0.0', git_commit: 'abc123def456', repository: REPOSITORY },
    });
    const application = async (name: string) =>
      asString(
        (
          await api.expect(201, 'POST', '/applications', {
            body: { name, repository: REPOSITORY, type: 'microservice', config: { simulate_delay_ms: 0 } },
          })
        ).id,
      );
    const environment = async (name: string) =>
      asString(
        (await api.expect(201, 'POST', '/environments', { body: { name, type: 'kubernetes', config: {} } }))
          .id,
      );
    const apps = [await application('api'), await application('web')];
    const environments: string[] = [];
    for (let index = 0; index < IN_FLIGHT; index += 1) environments.push(await environment(`env-${index}`));
    const [first] = environments;
    if (first === undefined) throw new Error('no environment');
    const request = (applicationIds: readonly string[], environmentId = first) => ({
      version_id: asString(version.id),
      application_ids: [...applicationIds],
      environment_id: environmentId,
    });

    // Latency, one deployment at a time.
    const latency = async (applicationIds: readonly string[]) => {
      for (let sample = 0; sample < DEPLOY_WARM_UP; sample += 1)
        await deployAndWait(api, request(applicationIds));
      const totals: number[] = [];
      const posts: number[] = [];
      for (let sample = 0; sample < DEPLOY_SAMPLES; sample += 1) {
        const { total, post } = await deployAndWait(api, request(applicationIds));
        totals.push(total);
        posts.push(post);
      }
      return { totals: summarize(totals), posts: summarize(posts) };
    };
    const one = await latency(apps.slice(0, 1));
    const two = await latency(apps);

    // Throughput: 20 deployments started together, one per environment.
    const rounds: { wallMs: number; each: LatencySummary }[] = [];
    for (let round = 0; round < THROUGHPUT_ROUNDS; round += 1) {
      const each: number[] = [];
      const roundStarted = performance.now();
      await Promise.all(
        environments.map(async (environmentId) => {
          each.push((await deployAndWait(api, request(apps.slice(0, 1), environmentId))).total);
        }),
      );
      rounds.push({ wallMs: performance.now() - roundStarted, each: summarize(each) });
    }
    const bestRound = [...rounds].sort((left, right) => left.wallMs - right.wallMs)[0];
    const medianRound = [...rounds].sort((left, right) => left.wallMs - right.wallMs)[
      Math.floor(rounds.length / 2)
    ];

    // API latency over HTTP, one request at a time, on a keep-alive connection.
    await forEachLimited(PRELOADED_VERSIONS, 8, async (index) => {
      await api.expect(201, 'POST', '/versions', {
        body: { git_tag: `v0.${index}.0`, git_commit: 'abcdef0123', repository: REPOSITORY },
      });
    });
    const [latest] = asObjects((await api.expect(200, 'GET', '/deployments?page_size=1')).deployments);
    const lastDeployment = asString(latest?.id);
    const anonymous = api.as('not-a-token');
    const operations: { name: string; run: (sample: number) => Promise<number> }[] = [
      {
        name: 'GET /versions/{id}',
        run: () => timedRequest(api, 200, 'GET', `/versions/${asString(version.id)}`),
      },
      {
        name: 'GET /versions (page of 20)',
        run: () => timedRequest(api, 200, 'GET', '/versions?page_size=20'),
      },
      {
        name: 'GET /deployments/{id}',
        run: () => timedRequest(api, 200, 'GET', `/deployments/${lastDeployment}`),
      },
      {
        name: 'GET /tasks?deployment_id=',
        run: () => timedRequest(api, 200, 'GET', `/tasks?deployment_id=${lastDeployment}`),
      },
      {
        name: 'POST /versions',
        run: (sample) =>
          timedRequest(api, 201, 'POST', '/versions', {
            git_tag: `v-bench-${sample}`,
            git_commit: 'abcdef0123',
            repository: REPOSITORY,
          }),
      },
      {
        name: 'GET /versions, bad token (401 by the authorizer)',
        run: () => timedRequest(anonymous, 401, 'GET', '/versions'),
      },
    ];
    const apiRows: (string | number)[][] = [];
    for (const operation of operations) {
      for (let sample = 0; sample < API_WARM_UP; sample += 1) await operation.run(sample);
      const samples: number[] = [];
      for (let sample = 0; sample < API_SAMPLES; sample += 1)
        samples.push(await operation.run(API_WARM_UP + sample));
      const result = summarize(samples);
      apiRows.push([operation.name, result.samples, ms(result.p50), ms(result.p95), ms(result.max)]);
    }

    const peak = memory.stop();
    await stop(runtime);
    const startUp = summarize(readyTimes);

    const deploymentRows = [
      ['1 application (4 tasks)', one],
      ['2 applications (8 tasks, in parallel)', two],
    ] as const;
    return [
      markdownTable(
        ['figure', 'value'],
        [
          [
            `time to ready (spawn → banner, ${startUp.samples} cold starts)`,
            `p50 ${seconds(startUp.p50)} s, max ${seconds(startUp.max)} s`,
          ],
          [
            `throughput, ${IN_FLIGHT} deployments in flight on ${IN_FLIGHT} environments (best of ${THROUGHPUT_ROUNDS})`,
            bestRound === undefined
              ? 'n/a'
              : `${(IN_FLIGHT / (bestRound.wallMs / 1000)).toFixed(1)} deployments/s, ${((IN_FLIGHT * 4) / (bestRound.wallMs / 1000)).toFixed(0)} tasks/s (all ${IN_FLIGHT} done in ${seconds(bestRound.wallMs)} s; median round ${seconds(medianRound?.wallMs ?? Number.NaN)} s)`,
          ],
          [
            `throughput, POST → success of each deployment in the best round`,
            bestRound === undefined
              ? 'n/a'
              : `p50 ${ms(bestRound.each.p50)} ms, max ${ms(bestRound.each.max)} ms`,
          ],
          [
            'peak memory of the whole stack (sum of resident sets, sampled)',
            `${mib(peak.sampledPeakKiB)} MiB (${peak.processes} processes)`,
          ],
          ['  of which DynamoDB Local (Java), peak', `${mib(peak.javaKiB)} MiB`],
          ['  of which Node (the runtime, TypeScript loaded by tsx), peak', `${mib(peak.nodeKiB)} MiB`],
        ],
      ),
      '',
      markdownTable(
        ['standard deployment, POST → success', 'samples', 'p50 ms', 'p95 ms', 'max ms', 'POST p50 ms'],
        deploymentRows.map(([name, figures]) => [
          name,
          figures.totals.samples,
          ms(figures.totals.p50),
          ms(figures.totals.p95),
          ms(figures.totals.max),
          ms(figures.posts.p50),
        ]),
        [false, true, true, true, true, true],
      ),
      '',
      markdownTable(['API request over HTTP', 'samples', 'p50 ms', 'p95 ms', 'max ms'], apiRows, [
        false,
        true,
        true,
        true,
        true,
      ]),
      '',
      `The stack runs as \`npm start\` does (\`node --import tsx local/start.ts\`, in memory, simulated agent with its default ` +
        `concurrency of 16, applications with \`simulate_delay_ms: 0\`), driven over HTTP from another process. ` +
        `Deployments are polled every ${POLL_MS} ms, one at a time after ${DEPLOY_WARM_UP} warm-up runs; API ` +
        `requests one at a time after ${API_WARM_UP} warm-up calls, with ${PRELOADED_VERSIONS} versions loaded. ` +
        `Memory is sampled every ${MEMORY_SAMPLE_MS} ms (per-process peaks from VmHWM where Linux has it).`,
    ].join('\n');
  } finally {
    await Promise.all(runtimes.map((runtime) => runtime.destroy()));
    await rm(keysDir, { recursive: true, force: true });
  }
}
