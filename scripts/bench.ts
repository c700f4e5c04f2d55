import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { markdownTable } from './bench/markdown';

// Set before the handler modules load: the logger reads its level once, and a JSON line per
// request would drown the tables (and time stdout, not the API).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_REGION ??= 'us-east-1';

const { BenchContext } = await import('./bench/context');
const { runAgentOverheadBench } = await import('./bench/agent-overhead');
const { runApiLatencyBench } = await import('./bench/api-latency');
const { runBundleBench } = await import('./bench/bundles');
const { runConsoleBench } = await import('./bench/console');
const { runDeployctlStartupBench } = await import('./bench/deployctl-startup');
const { runListScaleBench } = await import('./bench/list-scale');
const { runLocalE2eBench } = await import('./bench/local-e2e');

type Context = InstanceType<typeof BenchContext>;

interface Section {
  /** id for `npm run bench -- <id>` */
  readonly id: string;
  readonly title: string;
  readonly run: (context: Context) => Promise<string>;
}

/** Run in this order; `npm run bench -- <id> …` runs some of them. */
const SECTIONS: readonly Section[] = [
  {
    id: 'api-latency',
    title: 'API latency (versions handler, in-process, DynamoDB Local)',
    run: runApiLatencyBench,
  },
  {
    id: 'list-scale',
    title: 'Deployment and task lists at 1 000 / 10 000 / 100 000 tasks',
    run: runListScaleBench,
  },
  {
    id: 'bundles',
    title: 'Lambda bundles (size, cold import in a fresh Node process)',
    run: runBundleBench,
  },
  {
    id: 'local-e2e',
    title: 'Local end-to-end (npm start over HTTP, simulated agent)',
    run: runLocalE2eBench,
  },
  {
    id: 'console',
    title: 'Web console (gzipped build, deployment view first render in Chromium against npm start)',
    run: runConsoleBench,
  },
  {
    id: 'agent-overhead',
    title: 'Deploy agent overhead per task (in process: fauxqs, Step Functions double, DynamoDB Local)',
    run: runAgentOverheadBench,
  },
  {
    id: 'deployctl-startup',
    title: 'deployctl start-up (`deployctl --version`, fresh Node process)',
    run: runDeployctlStartupBench,
  },
];

function machine(): string {
  const [cpu] = cpus();
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  return markdownTable(
    ['machine', ''],
    [
      ['cpus', `${cpus().length} × ${cpu?.model.trim() ?? 'unknown'}`],
      ['memory', `${gib(totalmem())} (${gib(freemem())} free)`],
      ['os', `${platform()} ${release()}`],
      ['node', process.version],
      ['date', new Date().toISOString()],
    ],
  );
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((id) => !SECTIONS.some((section) => section.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.id).join(', ')}`,
    );
  }
  const sections = wanted.length === 0 ? SECTIONS : SECTIONS.filter((section) => wanted.includes(section.id));
  const context = new BenchContext();
  // Ctrl-C must not leave a DynamoDB Local (a Java process) behind.
  process.once('SIGINT', () => {
    void context.close().finally(() => process.exit(130));
  });
  console.log(`# deploy-manager benchmark\n\n${machine()}\n`);
  try {
    for (const section of sections) {
      const started = performance.now();
      const table = await section.run(context);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`## ${section.title}\n\n${table}\n\n_section took ${seconds} s_\n`);
    }
  } finally {
    await context.close();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
