import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { markdownTable } from './markdown';
import { ms, summarize } from './stats';

const BIN = fileURLToPath(new URL('../../cli/deployctl.mjs', import.meta.url));
const RUNS = 30;
const WARM_UP = 3;

/** Wall time of one `deployctl <args>` in a fresh Node process, spawn to exit. */
function timeRun(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const argv = args[0] === '-e' ? args : [BIN, ...args];
  const result = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0)
    throw new Error(`deployctl ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

/**
 * How fast `deployctl --version` answers (what scripts call to check the tool is there),
 * and `--help`, which loads the whole CLI through tsx, for comparison.
 */
export async function runDeployctlStartupBench(): Promise<string> {
  const rows: string[][] = [];
  for (const args of [['-e', ''], ['--version'], ['--help']]) {
    for (let index = 0; index < WARM_UP; index++) timeRun(args);
    const samples = Array.from({ length: RUNS }, () => timeRun(args));
    const summary = summarize(samples);
    rows.push([
      args[0] === '-e' ? "node -e '' (Node's own start-up)" : `deployctl ${args.join(' ')}`,
      String(RUNS),
      ms(summary.p50),
      ms(summary.p95),
    ]);
  }
  return `${markdownTable(['command', 'runs', 'p50 ms', 'p95 ms'], rows, [false, true, true, true])}\n\nSpawn to exit of \`node cli/deployctl.mjs …\` with Node ${process.version}, ${WARM_UP} warm-up runs first; \`--version\` reads package.json and loads nothing else, every other command loads the CLI through tsx.`;
}
