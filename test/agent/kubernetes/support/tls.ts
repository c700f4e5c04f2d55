import { readFile } from 'node:fs/promises';

export interface ServerCertificate {
  /** PEM */
  cert: string;
  /** PEM */
  key: string;
}

/**
 * The test API server's serving certificate: self-signed for 127.0.0.1 and localhost, valid
 * until 2126, made once with `openssl req -x509 -newkey ec -pkeyopt
 * ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=kube-apiserver-test -addext
 * subjectAltName=IP:127.0.0.1,DNS:localhost`. A key for tests only: it guards nothing.
 */
export async function testServerCertificate(): Promise<ServerCertificate> {
  const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  return { cert: await fixture('test-apiserver.cert.pem'), key: await fixture('test-apiserver.key.pem') };
}
