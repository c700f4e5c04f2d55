import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { apiResources } from '../../lib/api-functions';
import { esbuildOptions, FUNCTION_NODE_OPTIONS, PROJECT_ROOT } from '../../lib/functions';
import { STATUS_METRICS_HANDLER } from '../../lib/status-metrics';
import { markdownTable } from './markdown';
import { ms, percentile } from './stats';

const run = promisify(execFile);

/** Issue 4: every handler bundle under 300 KB minified, cold import under 150 ms. */
export const BUNDLE_BUDGET_BYTES = 300_000;
export const COLD_IMPORT_TARGET_MS = 150;

/** Timed fresh processes per handler, after one untimed run that warms the file cache. */
const RUNS = 10;

/**
 * Where the bundles are written: inside node_modules, so that their `@aws-sdk/*` imports
 * resolve to the project's SDK the way they resolve to the runtime's own SDK on Lambda.
 */
const OUT_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'deploy-manager-bench', 'bundles');

const DUMMY_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine';

/**
 * The environment a function starts with on Lambda: the stack's variables (dummy table and
 * state machines) and the runtime's own (region, dummy credentials, function name, X-Ray
 * daemon). Importing a handler creates its SDK clients but makes no AWS call.
 */
const lambdaEnvironment = (handler: string): NodeJS.ProcessEnv => ({
  NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
  TZ: ':UTC',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
  AWS_SESSION_TOKEN: 'bench-session-token',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: `DeployManager-${handler}`,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_LOG_FORMAT: 'JSON',
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  LAMBDA_TASK_ROOT: join(OUT_DIR, handler),
  POWERTOOLS_SERVICE_NAME: 'deploy-manager',
  POWERTOOLS_METRICS_NAMESPACE: 'DeployManager',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  TABLE_NAME: 'deploy-manager-bench',
  STATE_MACHINE_ARNS: JSON.stringify({
    standard: `${DUMMY_ARN}:standard`,
    'blue-green': `${DUMMY_ARN}:blue-green`,
  }),
});

/**
 * Runs in the fresh process: imports the bundle (argv[1]) and reports how long the import
 * took and how long after the process started the handler was ready.
 */
const IMPORT_PROBE = `
const started = performance.now();
const module = await import(process.argv[1]);
const ready = performance.now();
if (typeof module.handler !== 'function') throw new Error('the bundle exports no handler function');
process.stdout.write(JSON.stringify({ node: process.version, importMs: ready - started, readyMs: ready }));
`;

interface ColdStart {
  readonly node: string;
  readonly importMs: number;
  readonly readyMs: number;
}

async function coldStart(handler: string, bundle: string): Promise<ColdStart> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '--eval', IMPORT_PROBE, pathToFileURL(bundle).href],
    { cwd: join(OUT_DIR, handler), env: lambdaEnvironment(handler), timeout: 30_000 },
  );
  return JSON.parse(stdout) as ColdStart;
}

interface BundleFigures {
  readonly handler: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly importMs: readonly number[];
  readonly readyMs: readonly number[];
  readonly node: string;
}

async function measure(handler: string): Promise<BundleFigures> {
  const bundle = join(OUT_DIR, handler, 'index.mjs');
  // Exactly what the stack deploys (test/infra/bundles.test.ts holds the two equal).
  await build(esbuildOptions(handler, bundle));
  const code = await readFile(bundle);
  await coldStart(handler, bundle);
  const runs: ColdStart[] = [];
  for (let index = 0; index < RUNS; index += 1) runs.push(await coldStart(handler, bundle));
  return {
    handler,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    importMs: runs.map((sample) => sample.importMs).sort((left, right) => left - right),
    readyMs: runs.map((sample) => sample.readyMs).sort((left, right) => left - right),
    node: runs[0]?.node ?? 'unknown',
  };
}

const bytes = (value: number): string => value.toLocaleString('en-US');
const kb = (value: number): string => `${(value / 1000).toFixed(1)} KB`;

/**
 * Each handler's bundle as the stack deploys it: minified and gzipped size, and its cold
 * import in a fresh Node.js process with the function's environment (p50 / p95 of RUNS).
 */
export async function runBundleBench(): Promise<string> {
  const handlers = [...apiResources(), STATUS_METRICS_HANDLER];
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  const figures: BundleFigures[] = [];
  try {
    for (const handler of handlers) figures.push(await measure(handler));
  } finally {
    await rm(OUT_DIR, { recursive: true, force: true });
  }
  const nodes = [...new Set(figures.map((figure) => figure.node))];
  const rows = figures.map((figure) => {
    const p50 = percentile(figure.importMs, 50);
    const p95 = percentile(figure.importMs, 95);
    return [
      figure.handler,
      bytes(figure.bytes),
      `${((figure.bytes / BUNDLE_BUDGET_BYTES) * 100).toFixed(0)} %`,
      bytes(figure.gzipBytes),
      ms(p50),
      ms(p95),
      ms(percentile(figure.readyMs, 50)),
      p95 < COLD_IMPORT_TARGET_MS ? 'yes' : 'no',
    ];
  });
  const table = markdownTable(
    [
      'handler',
      'minified (bytes)',
      `of ${kb(BUNDLE_BUDGET_BYTES)}`,
      'gzipped (bytes)',
      'import p50 (ms)',
      'import p95 (ms)',
      'start → ready p50 (ms)',
      `p95 < ${COLD_IMPORT_TARGET_MS} ms`,
    ],
    rows,
    [false, true, true, true, true, true, true, false],
  );
  const [load1 = 0] = loadavg();
  return [
    table,
    '',
    `Bundles built with \`esbuildOptions\` (lib/functions.ts), the stack's bundling: ESM, minified, ` +
      `tree-shaken, AWS SDK v3 left to the runtime; sizes exclude the source map. Cold import: ` +
      `\`await import()\` of the bundle in a fresh \`${nodes.join(', ')}\` process with NODE_OPTIONS=` +
      `${FUNCTION_NODE_OPTIONS} and a Lambda-like environment (dummy values, no AWS call), the SDK ` +
      `loaded from node_modules as Lambda loads its own; ${RUNS} runs per handler after one warm-up, ` +
      `nearest-rank percentiles. "start → ready" adds Node's own start-up. Load average at the end: ` +
      `${load1.toFixed(2)}.`,
  ].join('\n');
}
