import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../local/free-port';
import { eventually } from '../../agent/support/processes';

/**
 * `git daemon` on a free loopback port serving one repository as `git://127.0.0.1:<port>/<name>`:
 * the API takes only network repository URLs, and the agent clones what the API stores.
 */
export interface GitServer {
  readonly url: string;
  /** stops the daemon and removes the repository */
  stop(): Promise<void>;
}

export async function serveRepository(repositoryDir: string, name = 'app.git'): Promise<GitServer> {
  const base = mkdtempSync(join(tmpdir(), 'git-daemon-'));
  renameSync(repositoryDir, join(base, name));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      `--base-path=${base}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      base,
    ],
    { stdio: 'ignore' },
  );
  const url = `git://127.0.0.1:${port}/${name}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`git daemon exited with ${child.exitCode}`);
    const probe = spawn('git', ['ls-remote', url], { stdio: 'ignore' });
    return (await new Promise<number | null>((resolve) => probe.once('exit', resolve))) === 0 || undefined;
  }, 30_000);
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}
