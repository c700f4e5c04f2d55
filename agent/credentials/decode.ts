import { parse as parseYaml } from 'yaml';

/**
 * Stored credential values as teams post them: a kubeconfig base64-encoded (as the
 * specification posts it) or as plain YAML, a private key as PEM or base64 of the PEM.
 */

const BASE64 = /^[A-Za-z0-9+/=\s_-]+$/;

/** The text `value` is the base64 of, when it is that and decodes to printable UTF-8. */
export function base64Text(value: string): string | undefined {
  const compact = value.replace(/\s+/g, '');
  if (compact.length < 4 || !BASE64.test(compact)) return undefined;
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  // A round trip proves it was base64 and not a word made of base64 letters.
  const reencoded = Buffer.from(decoded, 'utf8').toString('base64').replace(/=+$/, '');
  if (reencoded !== compact.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: printable text only
  return /^[^\u0000-\u0008\u000e-\u001f\ufffd]*$/.test(decoded) ? decoded : undefined;
}

export function decodeKubeconfig(value: string): string | undefined {
  const looksLikeConfig = (text: string) => /(^|\n)\s*(apiVersion|clusters|kind)\s*:/.test(text);
  if (looksLikeConfig(value)) return value;
  const decoded = base64Text(value);
  return decoded !== undefined && looksLikeConfig(decoded) ? decoded : undefined;
}

export function decodePrivateKey(value: string): string | undefined {
  const isPem = (text: string) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
  if (isPem(value)) return value;
  const decoded = base64Text(value);
  return decoded !== undefined && isPem(decoded) ? decoded : undefined;
}

/** The string a stored value is used as: strings as they are, anything else as JSON. */
export const storedText = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value);

/**
 * Every form of a stored value that must never reach a log or result: the value, its
 * base64, what it decodes to, and, for a kubeconfig, the secrets of its users (a token
 * alone, a client key) and their decoded forms. The masker adds each line of each.
 */
export function maskingForms(value: string): string[] {
  const forms = new Set<string>([value, Buffer.from(value, 'utf8').toString('base64')]);
  const decoded = base64Text(value);
  if (decoded !== undefined) forms.add(decoded);
  const kubeconfig = decodeKubeconfig(value);
  if (kubeconfig !== undefined) {
    for (const secret of kubeconfigUserSecrets(kubeconfig)) {
      forms.add(secret);
      const inner = base64Text(secret);
      if (inner !== undefined) forms.add(inner);
    }
  }
  return [...forms];
}

function kubeconfigUserSecrets(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    return [];
  }
  const users = isRecord(parsed) && Array.isArray(parsed.users) ? parsed.users : [];
  const secrets: string[] = [];
  const collect = (node: unknown): void => {
    if (typeof node === 'string') secrets.push(node);
    else if (Array.isArray(node)) node.forEach(collect);
    else if (isRecord(node)) Object.values(node).forEach(collect);
  };
  for (const user of users) if (isRecord(user)) collect(user.user);
  return secrets;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
