import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaskLog } from '../../../agent/executors/executor';
import { runCommand } from '../../../agent/process/run-command';
import { eventually, isRunning } from '../support/processes';

function memoryLog() {
  const lines: string[] = [];
  const output: { stream: string; text: string }[] = [];
  const log: TaskLog = {
    info: (line) => lines.push(line),
    output: (stream, text) => output.push({ stream, text }),
  };
  return {
    log,
    lines,
    output,
    text: (stream: string) =>
      output
        .filter((o) => o.stream === stream)
        .map((o) => o.text)
        .join(''),
  };
}

describe('runCommand', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'run-command-'));

  it('runs an argv without a shell, streams stdout and stderr to the log and reports the exit code', async () => {
    const { log, lines, text } = memoryLog();
    const result = await runCommand({
      argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'],
      cwd,
      log,
    });
    expect(result).toMatchObject({ exitCode: 3, ok: false, timedOut: false });
    expect(text('stdout')).toBe('out\n');
    expect(text('stderr')).toBe('err\n');
    expect(result.stderrTail).toContain('err');
    expect(lines[0]).toBe("$ /bin/sh -c 'echo out; echo err >&2; exit 3'");

    const literal = await runCommand({ argv: ['echo', '$HOME; rm -rf /'], cwd, captureStdout: true });
    expect(literal.stdout).toBe('$HOME; rm -rf /\n');
  });

  it("passes only PATH, HOME, LANG and the executor's variables, never the agent's AWS credentials", async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'agent-secret-key';
    process.env.AWS_ACCESS_KEY_ID = 'AKIAAGENT';
    try {
      const result = await runCommand({ argv: ['env'], cwd, env: { EXTRA: 'yes' }, captureStdout: true });
      const names = result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('=')[0] ?? '')
        .sort();
      expect(names).toContain('EXTRA');
      expect(names).toContain('PATH');
      expect(names.filter((name) => !['EXTRA', 'HOME', 'LANG', 'PATH'].includes(name))).toEqual([]);
      expect(result.stdout).not.toContain('agent-secret-key');
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.AWS_ACCESS_KEY_ID;
    }
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const pidFile = join(cwd, 'grandchild.pid');
    const result = await runCommand({
      argv: [`sleep 60 & echo $! > ${pidFile}; wait`],
      shell: true,
      cwd,
      timeoutMs: 300,
      killGraceMs: 500,
    });
    expect(result).toMatchObject({ timedOut: true, ok: false });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => !isRunning(grandchild));
  });

  it('kills the group when the task is aborted, even a child that ignores SIGTERM', async () => {
    const pidFile = join(cwd, 'stubborn.pid');
    const abort = new AbortController();
    const { log, lines } = memoryLog();
    const running = runCommand({
      argv: [`trap '' TERM; sleep 60 & echo $! > ${pidFile}; wait; sleep 60`],
      shell: true,
      cwd,
      signal: abort.signal,
      killGraceMs: 200,
      log,
    });
    const grandchild = await eventually(() => {
      try {
        return Number(readFileSync(pidFile, 'utf8')) || undefined;
      } catch {
        return undefined;
      }
    });
    abort.abort(new Error('the deployment was cancelled'));
    const result = await running;
    expect(result).toMatchObject({ aborted: true, ok: false });
    expect(lines).toContain('stopping the command: the deployment was cancelled');
    await eventually(() => !isRunning(grandchild));
  });
});
