import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BUSYBOX_BASE = 'localhost/busybox-base';

/**
 * buildah storage of its own holding `localhost/busybox-base`, made from the static busybox
 * binary as the build executor's test makes it, so a Dockerfile's FROM pulls nothing. `dir`
 * holds it all: remove it when done.
 */
export function busyboxBaseStorage(): { root: string; runroot: string; dir: string } {
  const storage = mkdtempSync(join(tmpdir(), 'buildah-e2e-'));
  const root = join(storage, 'root');
  const runroot = join(storage, 'run');
  const run = (...args: string[]) =>
    execFileSync('buildah', ['--storage-driver', 'vfs', '--root', root, '--runroot', runroot, ...args], {
      encoding: 'utf8',
    }).trim();
  const container = run('from', 'scratch');
  run('copy', container, '/bin/busybox', '/bin/busybox');
  run('copy', container, '/bin/busybox', '/bin/sh');
  run('commit', '--quiet', container, BUSYBOX_BASE);
  run('rm', container);
  return { root, runroot, dir: storage };
}
