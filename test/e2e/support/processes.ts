import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** One process of a tree, with its command line (for messages and for finding Java). */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
}

const hasProc = existsSync('/proc/self/stat');

/** `pid (comm) state ppid …`: the command may hold spaces and parentheses, so parse after the last `)`. */
function statOf(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid] = fields;
  if (state === undefined || ppid === undefined) return undefined;
  return { state, ppid: Number(ppid) };
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every live process of the machine (Linux: /proc; elsewhere: ps). */
export function allProcesses(): ProcessInfo[] {
  if (hasProc) {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((entry) => {
        const pid = Number(entry);
        const stat = statOf(pid);
        if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return [];
        return [{ pid, ppid: stat.ppid, command: commandOf(pid) }];
      });
  }
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,command='], { encoding: 'utf8' })
    .split('\n')
    .flatMap((line) => {
      const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
      if (match === null) return [];
      return [{ pid: Number(match[1]), ppid: Number(match[2]), command: match[3] ?? '' }];
    });
}

/** The process and all its descendants, as they are now. */
export function processTree(rootPid: number): ProcessInfo[] {
  const processes = allProcesses();
  const tree: ProcessInfo[] = [];
  const wanted = new Set([rootPid]);
  let grown = true;
  while (grown) {
    grown = false;
    for (const info of processes) {
      if (!wanted.has(info.pid) && wanted.has(info.ppid)) {
        wanted.add(info.pid);
        grown = true;
      }
    }
  }
  for (const info of processes) if (wanted.has(info.pid)) tree.push(info);
  return tree;
}

/** Still running: exists and is not a zombie (a reaped-later zombie has stopped already). */
export function isRunning(pid: number): boolean {
  if (hasProc) {
    const stat = statOf(pid);
    return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const isJava = (info: ProcessInfo) =>
  /\bjava\b/.test(info.command) && info.command.includes('DynamoDBLocal');

/** True when a server can listen on the port again (nobody holds it). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Polls `check` until it holds; the deadline only bounds the wait, it asserts nothing about speed. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface Memory {
  /** resident set now, KiB */
  readonly rssKiB: number;
  /** the highest resident set the process ever had (Linux VmHWM), KiB; undefined where unknown */
  readonly peakKiB: number | undefined;
}

/** Resident memory of one process (Linux: /proc/<pid>/status; elsewhere: ps). */
export function memoryOf(pid: number): Memory | undefined {
  if (hasProc) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return undefined;
    }
    const field = (name: string) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return match?.[1] === undefined ? undefined : Number(match[1]);
    };
    const rssKiB = field('VmRSS');
    return rssKiB === undefined ? undefined : { rssKiB, peakKiB: field('VmHWM') };
  }
  try {
    const rss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return Number.isFinite(rss) ? { rssKiB: rss, peakKiB: undefined } : undefined;
  } catch {
    return undefined;
  }
}
