/**
 * Credential-like config is write-only (product decision 3): the API stores it apart from
 * `config`, answers it as a fixed marker so clients see the key is set, and never logs it.
 * This module decides what "credential-like" means and how a config splits and merges.
 */

/** What the API shows instead of a stored secret; sending it back keeps the stored value. */
export const REDACTED = '[redacted]';

/** Any key containing one of these (after normalising case and separators) is a secret. */
const SECRET_FRAGMENTS = [
  'kubeconfig',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'credential',
  'privatekey',
  'apikey',
  'accesskey',
  'sshkey',
  'signingkey',
  'encryptionkey',
  'clientcert',
  'clientkey',
  'connectionstring',
  'authorization',
  'privkey',
  'dockerconfig',
  'oauth',
];

/**
 * Whole words that make a key a secret (`token`, `github_token`, `authToken`) but would
 * give false alarms as fragments (`tokenizer`, `patch`, `author`).
 */
const SECRET_WORDS = new Set([
  'token',
  'tokens',
  'auth',
  'pat',
  'jwt',
  'bearer',
  'cookie',
  'dsn',
  'pem',
  'pwd',
  'pw',
]);

/** `privateKey`, `private-key`, `PRIVATE_KEY` → ['private', 'key'] */
function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/**
 * Whether a config key names a credential: `kubeconfig`, `DB_PASSWORD`, `privateKey`,
 * `x-api-key`, `github_token`, `gitlabtoken`… Case and separators do not matter.
 */
export function isSecretConfigKey(key: string): boolean {
  const words = wordsOf(key);
  const joined = words.join('');
  return (
    SECRET_FRAGMENTS.some((fragment) => joined.includes(fragment)) ||
    // a word ending in "token" catches run-together names (`accesstoken`) but not `tokenizer`
    words.some((word) => SECRET_WORDS.has(word) || word.endsWith('token'))
  );
}

/**
 * Credential material people paste under innocent names (`tls_key`, `DATABASE_URL`,
 * `header`): PEM private keys, kubeconfig client keys, URLs with a password in them,
 * HTTP authorization values, and the token formats of common forges and chat tools.
 */
const SECRET_VALUE_PATTERNS = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
  /client-key-data"?\s*:/,
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]+:[^\s/@]+@/i,
  /^\s*(bearer|basic)\s+\S{8,}/i,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/,
  /\bglpat-[A-Za-z0-9_-]{20,}/,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/,
];

/** Whether a config value is credential material whatever its key is called. */
export function isSecretConfigValue(value: unknown): boolean {
  return typeof value === 'string' && SECRET_VALUE_PATTERNS.some((pattern) => pattern.test(value));
}

/**
 * Whether one config entry must not be shown or sent: a credential-like key or value, or the
 * marker itself (the entry of a secret stored apart).
 */
export const isSecretConfigEntry = (key: string, value: unknown): boolean =>
  value === REDACTED || isSecretConfigKey(key) || isSecretConfigValue(value);

export interface SplitConfig<V> {
  /** the config as clients may see it: each secret's value replaced by `REDACTED`, key order kept */
  readonly visible: Record<string, V | typeof REDACTED>;
  /** the secret values, to be stored apart */
  readonly secrets: Record<string, V>;
}

/** Splits a config into what may be shown and the secrets. The input is not modified. */
export function splitSecrets<V>(config: Readonly<Record<string, V>>): SplitConfig<V> {
  const visible: [string, V | typeof REDACTED][] = [];
  const secrets: [string, V][] = [];
  for (const [key, value] of Object.entries(config)) {
    if (value !== REDACTED && (isSecretConfigKey(key) || isSecretConfigValue(value))) {
      visible.push([key, REDACTED]);
      secrets.push([key, value]);
    } else {
      visible.push([key, value]);
    }
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays a plain entry
  return { visible: Object.fromEntries(visible), secrets: Object.fromEntries(secrets) };
}

export interface SecretUpdate<V> extends SplitConfig<V> {
  /** keys sent as `REDACTED` with no stored secret to keep: the caller must send a value */
  readonly unresolved: readonly string[];
}

/**
 * A full replace of a config that holds secrets (PUT, and POST with nothing stored):
 * `REDACTED` for a key keeps its stored secret, a new value replaces it, and a key left out
 * drops it. The marker is reserved: sent for a key with nothing stored, it is `unresolved`.
 */
export function applySecretUpdate<V>(
  config: Readonly<Record<string, V>>,
  stored: Readonly<Record<string, V>>,
): SecretUpdate<V> {
  const { visible, secrets } = splitSecrets(config);
  const kept: [string, V][] = [];
  const unresolved: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (value !== REDACTED) continue;
    const previous = Object.hasOwn(stored, key) ? stored[key] : undefined;
    if (previous === undefined) unresolved.push(key);
    else kept.push([key, previous]);
  }
  return { visible, secrets: Object.fromEntries([...Object.entries(secrets), ...kept]), unresolved };
}

export interface RedactedConfig {
  /** the config without its secrets */
  readonly config: Record<string, unknown>;
  /** where the removed secrets were, sorted: `password`, `database.password`, `servers[0].token` */
  readonly secret_keys: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What may leave the API in a task message: every secret entry removed at any depth (nested
 * objects and arrays of objects), and the paths of what was removed, so an agent knows which
 * credentials of its own to use. The input is not modified.
 */
export function redactSecrets(config: Readonly<Record<string, unknown>>): RedactedConfig {
  const secretKeys: string[] = [];
  const redactValue = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item, index) => redactValue(item, `${path}[${index}]`));
    if (isPlainObject(value)) return redactObject(value, path);
    return value;
  };
  const redactObject = (
    object: Readonly<Record<string, unknown>>,
    prefix: string,
  ): Record<string, unknown> => {
    const visible: [string, unknown][] = [];
    for (const [key, value] of Object.entries(object)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (isSecretConfigEntry(key, value)) secretKeys.push(path);
      else visible.push([key, redactValue(value, path)]);
    }
    return Object.fromEntries(visible);
  };
  return { config: redactObject(config, ''), secret_keys: secretKeys.sort() };
}
