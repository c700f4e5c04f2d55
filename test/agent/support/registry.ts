import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../local/free-port';
import { eventually } from './processes';

/** Debian's `docker-registry` on a free loopback port, with its own config and storage. */
export interface LocalRegistry {
  /** host:port, as image references name it */
  readonly host: string;
  /** the digest the registry reports for a manifest */
  digestOf(repository: string, tag: string): Promise<string | null>;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    return (
      (await fetch(`${base}/v2/`)
        .then((response) => response.ok)
        .catch(() => false)) || undefined
    );
  });
  return {
    host: `127.0.0.1:${port}`,
    async digestOf(repository, tag) {
      const response = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
        method: 'HEAD',
        headers: {
          accept: [
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.docker.distribution.manifest.v2+json',
          ].join(', '),
        },
      });
      return response.ok ? response.headers.get('docker-content-digest') : null;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
