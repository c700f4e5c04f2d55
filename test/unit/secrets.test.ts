import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../lambdas/domain/environment';
import {
  applySecretUpdate,
  isSecretConfigEntry,
  isSecretConfigKey,
  isSecretConfigValue,
  REDACTED,
  redactSecrets,
  splitSecrets,
} from '../../lambdas/domain/secrets';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';

describe('isSecretConfigKey', () => {
  it.each([
    'kubeconfig',
    'KUBECONFIG',
    'password',
    'db_password',
    'DB_PASSWORD',
    'passwd',
    'smtpPasswd',
    'secret',
    'client_secret',
    'token',
    'github_token',
    'authToken',
    'gitlabtoken',
    'private_key',
    'privateKey',
    'ssh-private-key',
    'api_key',
    'x-api-key',
    'ApiKey',
    'credentials',
    'aws_credentials',
    'access_key',
    'AWS_ACCESS_KEY_ID',
    'secret_access_key',
    'Authorization',
    'authorization_header',
    'DB_PWD',
    'db_pw',
    'client_key',
    'privKey',
    'dockerconfigjson',
    '.dockerconfigjson',
    'oauth',
    'oauth_client',
  ])('%s is a secret', (key) => {
    expect(isSecretConfigKey(key)).toBe(true);
  });

  it.each([
    'cluster',
    'namespace',
    'dockerfile',
    'build_args',
    'port',
    'replicas',
    'tokenizer',
    'author',
    'keyspace',
    'deployment_strategy',
    'hosts',
  ])('%s is not a secret', (key) => {
    expect(isSecretConfigKey(key)).toBe(false);
  });
});

describe('isSecretConfigValue / isSecretConfigEntry', () => {
  it('recognises private keys and kubeconfig client keys under any name', () => {
    expect(isSecretConfigValue(PEM)).toBe(true);
    expect(isSecretConfigValue('users:\n- user:\n    client-key-data: LS0tLS1C')).toBe(true);
    expect(isSecretConfigValue('{"client-key-data": "LS0tLS1C"}')).toBe(true);
    expect(isSecretConfigValue('-----BEGIN CERTIFICATE-----')).toBe(false);
    expect(isSecretConfigValue(8080)).toBe(false);
    expect(isSecretConfigEntry('tls_key', PEM)).toBe(true);
  });

  it.each([
    'postgres://app:s3cret@db.internal:5432/app',
    'https://deploy:hunter22@registry.example.com',
    'Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature',
    'Basic ZGVwbG95Omh1bnRlcjI=',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'glpat-abcdefghijklmnopqrstu',
    'xoxb-1234567890-abcdefghij',
  ])('recognises %s as credential material under any name', (value) => {
    expect(isSecretConfigValue(value)).toBe(true);
  });

  it.each([
    'https://github.com/org/repo',
    'postgres://db.internal:5432/app',
    'https://user@example.com/path',
    'basic',
    'v1.2.3',
    'mailto:ops@example.com',
  ])('leaves %s alone', (value) => {
    expect(isSecretConfigValue(value)).toBe(false);
  });

  it('treats the marker as a secret entry, so a stored secret never travels as its placeholder', () => {
    expect(isSecretConfigEntry('tls_key', REDACTED)).toBe(true);
    expect(isSecretConfigEntry('namespace', 'default')).toBe(false);
  });
});

describe('splitSecrets', () => {
  it('shows each secret as the marker, in place, and returns the values apart', () => {
    const config = { cluster: 'prod', kubeconfig: 'base64', namespace: 'default', tls_key: PEM, port: 8080 };
    const { visible, secrets } = splitSecrets(config);
    expect(visible).toEqual({
      cluster: 'prod',
      kubeconfig: REDACTED,
      namespace: 'default',
      tls_key: REDACTED,
      port: 8080,
    });
    expect(Object.keys(visible)).toEqual(Object.keys(config));
    expect(secrets).toEqual({ kubeconfig: 'base64', tls_key: PEM });
    expect(config.kubeconfig).toBe('base64');
  });

  it('keeps a `__proto__` key as a plain entry', () => {
    const config = JSON.parse('{"__proto__": "x", "password": "p"}') as Record<string, string>;
    const { visible, secrets } = splitSecrets(config);
    expect(Object.keys(visible)).toEqual(['__proto__', 'password']);
    expect(secrets).toEqual({ password: 'p' });
    expect(Object.getPrototypeOf(visible)).toBe(Object.prototype);
  });

  const configs = fc.dictionary(
    fc.oneof(
      fc.constantFrom('kubeconfig', 'db_password', 'api_key', 'cluster', 'namespace', 'port'),
      fc.string(),
    ),
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(PEM)),
  );

  it('never leaves a secret visible, and marker + secrets give back the config', () => {
    fc.assert(
      fc.property(configs, (config) => {
        const { visible, secrets } = splitSecrets(config);
        for (const [key, value] of Object.entries(visible)) {
          expect(value === REDACTED || !isSecretConfigEntry(key, value)).toBe(true);
        }
        const restored = Object.fromEntries(
          Object.entries(visible).map(([key, value]) => [
            key,
            Object.hasOwn(secrets, key) ? secrets[key] : value,
          ]),
        );
        expect(restored).toEqual(config);
        expect(Environment.shape.config.safeParse(visible).success).toBe(true);
      }),
    );
  });
});

describe('applySecretUpdate', () => {
  const stored = { kubeconfig: 'old-kubeconfig', api_token: 'old-token' };

  it('keeps a secret sent back as the marker, replaces one sent anew, drops one left out', () => {
    const update = applySecretUpdate({ cluster: 'v2', kubeconfig: REDACTED, db_password: 'new' }, stored);
    expect(update).toEqual({
      visible: { cluster: 'v2', kubeconfig: REDACTED, db_password: REDACTED },
      secrets: { kubeconfig: 'old-kubeconfig', db_password: 'new' },
      unresolved: [],
    });
    expect(applySecretUpdate({ kubeconfig: 'fresh' }, stored).secrets).toEqual({ kubeconfig: 'fresh' });
  });

  it('names the keys sent as the marker with nothing stored', () => {
    expect(applySecretUpdate({ password: REDACTED, note: REDACTED }, {}).unresolved).toEqual([
      'password',
      'note',
    ]);
    expect(applySecretUpdate({ toString: REDACTED }, {}).unresolved).toEqual(['toString']);
  });
});

describe('Environment response schema', () => {
  it('refuses a secret value in config, so a slip becomes a 500 and not a leak', () => {
    const environment = {
      id: 'env_1',
      name: 'production',
      type: 'kubernetes',
      config: { cluster: 'prod', kubeconfig: REDACTED },
      is_active: true,
      created_at: '2024-10-24T10:00:00Z',
      updated_at: '2024-10-24T10:00:00Z',
    };
    expect(Environment.safeParse(environment).success).toBe(true);
    const leaking = { ...environment, config: { kubeconfig: 'base64_encoded_config' } };
    const result = Environment.safeParse(leaking);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('base64_encoded_config');
  });
});

describe('redactSecrets (task payloads)', () => {
  it('removes secrets at any depth and names where they were, without touching the input', () => {
    const config = {
      cluster: 'prod',
      kubeconfig: 'apiVersion: v1…',
      tls_key: PEM,
      stored: REDACTED,
      database: { host: 'db', password: 'hunter2' },
      registries: [{ url: 'r1', token: 't1' }, { url: 'r2' }],
    };
    const copy = structuredClone(config);
    expect(redactSecrets(config)).toEqual({
      config: { cluster: 'prod', database: { host: 'db' }, registries: [{ url: 'r1' }, { url: 'r2' }] },
      secret_keys: ['database.password', 'kubeconfig', 'registries[0].token', 'stored', 'tls_key'],
    });
    expect(config).toEqual(copy);
  });
});
