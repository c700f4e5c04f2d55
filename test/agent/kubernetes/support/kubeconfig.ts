import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes a kubeconfig with one context, `test`, for a bearer token at `server`. */
export async function writeKubeconfig(
  directory: string,
  server: string,
  token: string,
  namespace = 'default',
): Promise<string> {
  const path = join(directory, 'kubeconfig');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${server}`,
      // the test server speaks plain HTTP, which @kubernetes/client-node only allows with this
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: tester',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      '    user: tester',
      `    namespace: ${namespace}`,
      'current-context: test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}
