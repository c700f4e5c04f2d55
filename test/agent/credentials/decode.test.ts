import { describe, expect, it } from 'vitest';
import {
  base64Text,
  decodeKubeconfig,
  decodePrivateKey,
  maskingForms,
} from '../../../agent/credentials/decode';
import { SecretMasker } from '../../../agent/logs/secret-masker';

const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters:',
  '- name: c',
  '  cluster: { server: "https://10.0.0.1:6443" }',
  'users:',
  '- name: u',
  '  user:',
  '    token: tok-8d2f6a1c9e',
  `    client-key-data: ${Buffer.from('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIkeymaterial\n-----END EC PRIVATE KEY-----').toString('base64')}`,
  'contexts: [{ name: x, context: { cluster: c, user: u } }]',
  'current-context: x',
].join('\n');
const PEM =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACB0ZXN0a2V5\n-----END OPENSSH PRIVATE KEY-----\n';
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('stored credential values', () => {
  it('takes a kubeconfig as the spec posts it (base64) or as plain YAML, and refuses anything else', () => {
    expect(decodeKubeconfig(b64(KUBECONFIG))).toBe(KUBECONFIG);
    expect(decodeKubeconfig(KUBECONFIG)).toBe(KUBECONFIG);
    expect(decodeKubeconfig('not a kubeconfig')).toBeUndefined();
    expect(decodeKubeconfig(b64('hello world'))).toBeUndefined();
  });

  it('takes a private key as PEM or base64 of the PEM', () => {
    expect(decodePrivateKey(PEM)).toBe(PEM);
    expect(decodePrivateKey(b64(PEM))).toBe(PEM);
    expect(decodePrivateKey('c2VjcmV0')).toBeUndefined();
  });

  it('reads base64 only when it round-trips to printable text', () => {
    expect(base64Text(b64('plain text'))).toBe('plain text');
    expect(base64Text('password')).toBeUndefined();
    expect(base64Text(Buffer.from([0, 1, 2, 255]).toString('base64'))).toBeUndefined();
  });

  it('masks the value, its base64, its decoded form, each line, and a kubeconfig user secret alone', () => {
    const masker = new SecretMasker();
    for (const form of maskingForms(b64(KUBECONFIG))) masker.add(form);
    const leaks = [
      b64(KUBECONFIG),
      KUBECONFIG,
      'tok-8d2f6a1c9e',
      'MHcCAQEEIkeymaterial',
      b64(b64(KUBECONFIG)),
    ].map((text) => masker.mask(`error: ${text} refused`));
    expect(leaks.join('\n')).not.toMatch(/tok-8d2f6a1c9e|MHcCAQEEIkeymaterial|LS0t|YXBpVmVyc2lvbj/);

    const keyMasker = new SecretMasker();
    for (const form of maskingForms(b64(PEM))) keyMasker.add(form);
    expect(keyMasker.mask(`line: QyNTUxOQAAACB0ZXN0a2V5 and ${b64(PEM)}`)).toBe('line: *** and ***');
  });
});
