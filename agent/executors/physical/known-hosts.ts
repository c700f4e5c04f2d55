import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Pinned host keys, read like OpenSSH reads known_hosts: `[marker] patterns type key [comment]`.
 * Patterns are `host`, `[host]:port`, wildcards (`*`, `?`), negations (`!host`) and hashed
 * `|1|salt|hmac` entries. A plain `host` pins the key on every port; `[host]:port` on that one.
 */
export interface PinnedKey {
  readonly type: string;
  /** the key blob in SSH wire format, as the server sends it */
  readonly blob: Buffer;
  readonly revoked: boolean;
}

interface KnownHostsEntry extends PinnedKey {
  readonly patterns: readonly string[];
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      // A certificate authority vouches for certificates, which this agent does not check.
      if (fields[0] !== '@revoked') continue;
      revoked = true;
      fields = fields.slice(1);
    }
    const [patterns, type, key] = fields;
    if (!patterns || !type || !key) continue;
    entries.push({ patterns: patterns.split(','), type, blob: Buffer.from(key, 'base64'), revoked });
  }
  return entries;
}

const wildcardMatch = (pattern: string, name: string): boolean => {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(name);
};

const hashedMatch = (pattern: string, names: readonly string[]): boolean => {
  const [, version, salt, hash] = pattern.split('|');
  if (version !== '1' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  return names.some((name) => {
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
};

/** The names a host is looked up by: `host` and `[host]:port`. */
const lookupNames = (host: string, port: number): string[] =>
  port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`, host];

const entryMatches = (entry: KnownHostsEntry, host: string, port: number): boolean => {
  const names = lookupNames(host, port);
  let matched = false;
  for (const pattern of entry.patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    const hit = body.startsWith('|') ? hashedMatch(body, names) : names.some((n) => wildcardMatch(body, n));
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
};

/** The keys pinned for one host and port (revoked ones included, flagged). */
export const pinnedKeysFor = (text: string, host: string, port: number): PinnedKey[] =>
  parseKnownHosts(text)
    .filter((entry) => entryMatches(entry, host, port))
    .map(({ type, blob, revoked }) => ({ type, blob, revoked }));

export type HostKeyVerdict = 'pinned' | 'unknown' | 'changed' | 'revoked';

export function verifyHostKey(pinned: readonly PinnedKey[], presented: Buffer): HostKeyVerdict {
  if (pinned.some((key) => key.revoked && key.blob.equals(presented))) return 'revoked';
  const trusted = pinned.filter((key) => !key.revoked);
  if (trusted.length === 0) return 'unknown';
  return trusted.some((key) => key.blob.equals(presented)) ? 'pinned' : 'changed';
}

/**
 * Host key algorithms to offer, so the server presents a key of a pinned type (an RSA key is
 * pinned as `ssh-rsa` and signed with SHA-2 where the server can).
 */
export function hostKeyAlgorithms(pinned: readonly PinnedKey[]): string[] {
  const algorithms = new Set<string>();
  for (const key of pinned) {
    if (key.revoked) continue;
    if (key.type === 'ssh-rsa')
      for (const name of ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']) algorithms.add(name);
    else algorithms.add(key.type);
  }
  return [...algorithms];
}
