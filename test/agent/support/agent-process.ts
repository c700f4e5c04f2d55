import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './processes';

export interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly message: string;
  readonly task_id?: string;
  readonly [field: string]: unknown;
}

/** The deploy-agent program in a process of its own, as `npm run agent -- --config <file>` starts it. */
export interface AgentProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  /** every byte it wrote on stdout */
  readonly stdout: () => string;
  waitForLog(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  exited(): Promise<number | null>;
}

const root = join(import.meta.dirname, '..', '..', '..');

export function writeConfig(dir: string, config: unknown): string {
  const file = join(dir, 'agent.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function startAgentProcess(configFile: string): AgentProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'agent', 'bin.ts'), '--config', configFile],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: LogLine[] = [];
  let pending = '';
  let stderr = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    stderr: () => stderr,
    stdout: () => stdout,
    // A wait, not a threshold: a loaded machine starts tsx slowly.
    waitForLog: (predicate) => eventually(() => logs.find(predicate), 120_000),
    exited: () => exit,
  };
}
