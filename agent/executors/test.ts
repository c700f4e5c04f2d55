import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runCommand } from '../process/run-command';
import { checkoutVersion } from './checkout';
import { optionalNumber } from './config-values';
import { type Executor, type TaskContext, TaskFailure } from './executor';

/**
 * `test`: runs `config.test_command` in a checkout of the version, in its own process group
 * with a scrubbed environment (PATH, HOME, LANG, CI=true) and a timeout
 * (`config.timeout_seconds`, else 90 % of the task's own timeout), then, when the step sets
 * `coverage_threshold`, reads the coverage and compares it.
 *
 * `test_command` is a shell line (a string, run with `/bin/sh -c`) or an argv array (run as
 * it is). Coverage is read, first found wins, from:
 *  1. `coverage/coverage-summary.json` in the checkout (istanbul `json-summary`: `total.lines.pct`),
 *  2. the last line of the command's output matching `coverage: NN%` (or `coverage NN.N %`).
 */
export class TestExecutor implements Executor {
  readonly type = 'test';

  async execute(context: TaskContext) {
    const { payload, message, signal, log } = context;
    const command = payload.config.test_command;
    const shellLine = typeof command === 'string' && command.trim() !== '';
    const argv =
      Array.isArray(command) &&
      command.length > 0 &&
      command.every((item): item is string => typeof item === 'string')
        ? command
        : undefined;
    if (!shellLine && argv === undefined)
      throw new TaskFailure(
        'InvalidStepConfig',
        'config.test_command must be a shell line or a list of arguments',
      );
    const timeoutSeconds =
      optionalNumber(payload.config, 'timeout_seconds') ??
      Math.max(1, Math.floor(message.timeout_seconds * 0.9));
    const threshold = optionalNumber(payload.config, 'coverage_threshold');

    const { dir } = await checkoutVersion(context);
    let output = '';
    const result = await runCommand({
      argv: shellLine ? [command] : (argv ?? []),
      shell: shellLine,
      cwd: dir,
      env: { CI: 'true' },
      timeoutMs: timeoutSeconds * 1000,
      signal,
      log: {
        info: (line) => log.info(line),
        output: (stream, chunk) => {
          log.output(stream, chunk);
          output = (output + chunk).slice(-64 * 1024);
        },
      },
    });
    if (result.timedOut)
      throw new TaskFailure(
        'TestTimedOut',
        `the test command ran longer than ${timeoutSeconds} s and was killed`,
      );
    if (!result.ok) throw new TaskFailure('TestsFailed', describeFailure(result, 'the test command'));

    const coverage = await readCoverage(dir, output);
    if (threshold !== undefined) {
      if (coverage === undefined)
        throw new TaskFailure(
          'CoverageMissing',
          `the step requires ${threshold}% coverage, but neither coverage/coverage-summary.json nor a "coverage: NN%" line was found`,
        );
      if (coverage < threshold)
        throw new TaskFailure(
          'CoverageBelowThreshold',
          `coverage ${coverage}% is below the required ${threshold}%`,
        );
      log.info(`coverage ${coverage}% (required ${threshold}%)`);
    }
    return { passed: true, ...(coverage === undefined ? {} : { coverage }) };
  }
}

const COVERAGE_LINE = /coverage:?\s*(\d+(?:\.\d+)?)\s*%/i;

export async function readCoverage(dir: string, output: string): Promise<number | undefined> {
  try {
    const summary: unknown = JSON.parse(
      await readFile(join(dir, 'coverage', 'coverage-summary.json'), 'utf8'),
    );
    const pct = linesPct(summary);
    if (pct !== undefined) return pct;
  } catch {
    // no summary file: the output decides
  }
  const lines = output.split('\n').reverse();
  for (const line of lines) {
    const match = COVERAGE_LINE.exec(line);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}

function linesPct(summary: unknown): number | undefined {
  if (typeof summary !== 'object' || summary === null || !('total' in summary)) return undefined;
  const { total } = summary;
  if (typeof total !== 'object' || total === null || !('lines' in total)) return undefined;
  const { lines } = total;
  if (typeof lines !== 'object' || lines === null || !('pct' in lines)) return undefined;
  return typeof lines.pct === 'number' ? lines.pct : undefined;
}
