import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskFailure } from '../../../agent/executors/executor';
import { TestExecutor } from '../../../agent/executors/test';
import { commitMore, gitRepository } from '../support/git-repo';
import { agentTask } from '../support/messages';
import { eventually, isRunning } from '../support/processes';
import { taskContext } from '../support/task-context';

const executor = new TestExecutor();

async function failureOf(promise: Promise<unknown>): Promise<TaskFailure> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof TaskFailure)) throw new Error(`expected a TaskFailure, got ${String(error)}`);
  return error;
}

describe('test executor', () => {
  const repo = gitRepository({
    'run-tests.sh': '#!/bin/sh\necho "12 tests passed"\necho "All files | coverage: 87.5%"\n',
    'failing.sh': '#!/bin/sh\necho "1 test failed: expected 2, got 3" >&2\nexit 1\n',
    'with-summary.sh':
      '#!/bin/sh\nmkdir -p coverage\necho \'{"total":{"lines":{"total":10,"covered":6,"pct":60},"statements":{"pct":99}}}\' > coverage/coverage-summary.json\necho "coverage: 99%"\n',
  });
  const task = (config: Record<string, unknown>) =>
    agentTask({ type: 'test', config, repository: repo.dir, commit: repo.commit.slice(0, 12) });

  it('runs the command in a checkout of the version and reports passed and the coverage it printed', async () => {
    const context = taskContext(task({ test_command: './run-tests.sh', coverage_threshold: 80 }));
    await expect(executor.execute(context)).resolves.toEqual({ passed: true, coverage: 87.5 });
    await context.writer.close();
    const log = context.sink.text(context.message.task_id);
    expect(log).toContain(`checked out ${repo.commit}`);
    expect(log).toContain('12 tests passed');
    expect(log).toContain('coverage 87.5% (required 80%)');
  });

  it('takes an argv array as it is, without a shell', async () => {
    const context = taskContext(task({ test_command: ['/bin/echo', 'coverage: 91% ; exit 1'] }));
    await expect(executor.execute(context)).resolves.toEqual({ passed: true, coverage: 91 });
  });

  it('fails when the command fails, quoting its stderr', async () => {
    const failure = await failureOf(executor.execute(taskContext(task({ test_command: './failing.sh' }))));
    expect(failure.error).toBe('TestsFailed');
    expect(failure.cause).toContain('exited with 1');
    expect(failure.cause).toContain('expected 2, got 3');
  });

  it('reads coverage-summary.json before the output and fails below the threshold', async () => {
    const failure = await failureOf(
      executor.execute(taskContext(task({ test_command: './with-summary.sh', coverage_threshold: 75 }))),
    );
    expect(failure).toMatchObject({
      error: 'CoverageBelowThreshold',
      cause: 'coverage 60% is below the required 75%',
    });
  });

  it('fails when a threshold is set and no coverage can be found', async () => {
    const failure = await failureOf(
      executor.execute(taskContext(task({ test_command: 'echo no numbers here', coverage_threshold: 50 }))),
    );
    expect(failure.error).toBe('CoverageMissing');
  });

  it('kills the whole process group when the command runs past timeout_seconds', async () => {
    const context = taskContext(
      task({ test_command: 'sleep 60 & echo $! > grandchild.pid; wait', timeout_seconds: 1 }),
    );
    const failure = await failureOf(executor.execute(context));
    expect(failure).toMatchObject({ error: 'TestTimedOut' });
    expect(failure.cause).toContain('longer than 1 s');
    const grandchild = Number(readFileSync(join(context.workDir, 'checkout', 'grandchild.pid'), 'utf8'));
    await eventually(() => !isRunning(grandchild));
  });

  it('refuses a checkout whose HEAD is not the version commit', async () => {
    const wrong = agentTask({
      type: 'test',
      config: { test_command: 'true' },
      repository: repo.dir,
      commit: 'deadbeefdeadbeef',
    });
    const failure = await failureOf(executor.execute(taskContext(wrong)));
    expect(failure.error).toBe('CheckoutFailed');
    expect(failure.cause).toContain('deadbeefdeadbeef');
  });

  it('refuses a tag named like the commit: HEAD must be the commit itself', async () => {
    const tricky = gitRepository({ 'a.txt': 'one' });
    execFileSync('git', ['tag', 'cafe1234'], { cwd: tricky.dir });
    commitMore(tricky.dir, { 'a.txt': 'two' });
    const message = agentTask({
      type: 'test',
      config: { test_command: 'true' },
      repository: tricky.dir,
      commit: 'cafe1234',
    });
    const failure = await failureOf(executor.execute(taskContext(message)));
    expect(failure.error).toBe('CommitMismatch');
    expect(failure.cause).toContain(`checkout is at ${tricky.commit}`);
  });
});
