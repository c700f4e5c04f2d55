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
  'dockercfg',
  'oauth',
  'hmackey',
  'sessionkey',
  'masterkey',
  'authkey',
  'accountkey',
  'pgpkey',
  'gpgkey',
  'webhookurl',
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
  'hmac',
  // files whose whole content is credentials
  'npmrc',
  'pypirc',
  'netrc',
]);

/**
 * A last word that makes the key about a secret, not the secret itself: `token_ttl`,
 * `token_url`, `secret_name` / `secret_arn` (where a secret store keeps it: agents fetch it
 * with their own credentials, and people need to see which one is meant), `kubeconfig_path`,
 * `password_min_length`. The value is still checked: a URL with a password stays a secret.
 */
const ABOUT_A_SECRET = new Set([
  'ttl',
  'expiry',
  'expires',
  'lifetime',
  'timeout',
  'seconds',
  'minutes',
  'hours',
  'days',
  'url',
  'uri',
  'endpoint',
  'issuer',
  'audience',
  'name',
  'arn',
  'ref',
  'path',
  'file',
  'dir',
  'length',
  'type',
  'enabled',
  'required',
  'rotation',
]);

/** A first word that makes the key a number about secrets: `max_tokens`, `min_password_length`. */
const QUANTITY = new Set(['max', 'min', 'num']);

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
  // a webhook URL is itself the credential (Slack, Teams, Discord put it in the path)
  if (joined.includes('webhookurl')) return true;
  const [first, last] = [words[0], words.at(-1)];
  if (
    words.length > 1 &&
    ((last !== undefined && ABOUT_A_SECRET.has(last)) || (first !== undefined && QUANTITY.has(first)))
  ) {
    return false;
  }
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
  // PEM and PGP private keys, kubeconfig client keys
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/,
  /client-key-data"?\s*:/,
  // a URL with a password, with or without a user (`redis://:pass@host`)
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/i,
  // HTTP authorization values and header lines
  /^\s*(bearer|basic)\s+\S{8,}/i,
  /\bauthorization\s*:\s*\S+\s+\S{8,}/i,
  // credential assignments inside a file's content (.npmrc, .pypirc, .env, YAML, JSON, connection strings)
  // (`NAME=value`, `name = value`, `name: value`, `"name":"value"`; not an ARN's `:secret:name`)
  /(?:^|[\s{,;:?&])["']?[\w.-]*?(?:_authToken|_auth|_password|password|passwd|pwd|secret|api_?key|token|AccountKey|SharedAccessKey)["']?\s*(?:=|:(?=[\s"']))\s*["']?[^\s"',;}]{8,}/im,
  // docker config auths
  /"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"/,
  // cloud, forge, chat and payment token formats
  /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/,
  /\bAIza[0-9A-Za-z_-]{35}/,
  /\bGOCSPX-[A-Za-z0-9_-]{20,}/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/,
  /\bgithub_pat_[A-Za-z0-9_]{22,}/,
  /\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ffct)-[A-Za-z0-9_-]{20,}/,
  /\bxox[abeoprs]-[A-Za-z0-9-]{10,}/,
  /\bxapp-\d-[A-Za-z0-9-]{10,}/,
  /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/,
  /\bwhsec_[A-Za-z0-9+/=]{20,}/,
  /\bnpm_[A-Za-z0-9]{36}\b/,
  /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{16,}/,
  /\bsk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{32,}/,
  /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/,
  /\bhvs\.[A-Za-z0-9_-]{24,}/,
  /\bdop_v1_[a-f0-9]{64}\b/,
  /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/,
  /\bAGE-SECRET-KEY-1[A-Z0-9]{50,}/,
  /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/,
  // JSON web tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/,
  // webhook URLs whose path is the credential
  /\bhooks\.slack\.com\/(?:services|workflows|triggers)\//i,
  /\b(?:discord(?:app)?\.com)\/api\/webhooks\//i,
  /\.webhook\.office\.com\/webhookb2\//i,
  /\bchat\.googleapis\.com\/v1\/spaces\/[^\s/]+\/messages\?[^\s]*\bkey=/i,
  // signed URLs (Azure SAS, S3 presigned)
  /[?&](?:sig|X-Amz-Signature)=[A-Za-z0-9%+/=]{16,}/,
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
