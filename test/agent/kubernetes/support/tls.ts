import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServerCertificate {
  /** PEM */
  cert: string;
  /** PEM */
  key: string;
}

/** A self-signed certificate for 127.0.0.1, made with openssl, as a test API server's serving certificate. */
export async function selfSignedCertificate(): Promise<ServerCertificate> {
  const directory = await mkdtemp(join(tmpdir(), 'kube-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=kube-apiserver-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(directory, 'key.pem'),
      '-out',
      join(directory, 'cert.pem'),
    ]);
    return {
      cert: await readFile(join(directory, 'cert.pem'), 'utf8'),
      key: await readFile(join(directory, 'key.pem'), 'utf8'),
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
