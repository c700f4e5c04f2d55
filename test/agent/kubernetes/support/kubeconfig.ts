import { writeFile } from 'node:fs/promises';

/** Writes a kubeconfig with one context, `test`, for a bearer token at an HTTPS server. */
export async function writeKubeconfig(
  path: string,
  server: { url: string; certificate: string | undefined },
  token: string,
  namespace = 'default',
): Promise<string> {
  const certificate = server.certificate;
  if (!certificate) throw new Error('the test API server serves HTTPS for kubeconfigs');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${server.url}`,
      `    certificate-authority-data: ${Buffer.from(certificate).toString('base64')}`,
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
