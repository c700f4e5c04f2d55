import { describe, expect, it } from 'vitest';
import { isSecretConfigEntry, REDACTED, redactSecrets, splitSecrets } from '../../lambdas/domain/secrets';

/**
 * Credential shapes as teams really paste them into config, and ordinary config that only
 * looks like them. The token bodies are built here (repeated characters) rather than written
 * out, so no scanner mistakes this file for a leak; each has the real format's prefix and length.
 */
const run = (alphabet: string, length: number) =>
  alphabet.repeat(Math.ceil(length / alphabet.length)).slice(0, length);
const ALNUM = run('aB3xK9mQ7zR2', 64);
const HEX = run('0123456789abcdef', 64);
const B64 = 'dXNlcjpwYXNzd29yZA==';

const CREDENTIALS: readonly (readonly [shape: string, key: string, value: string])[] = [
  ['AWS access key id', 'aws', 'AKIAIOSFODNN7EXAMPLE'],
  ['AWS temporary access key id', 'sts', `ASIA${run('Y7', 16).toUpperCase()}`],
  ['AWS secret access key (by key)', 'AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['GitHub classic token', 'forge', `ghp_${ALNUM.slice(0, 36)}`],
  ['GitHub OAuth token', 'forge', `gho_${ALNUM.slice(0, 36)}`],
  ['GitHub app installation token', 'forge', `ghs_${ALNUM.slice(0, 36)}`],
  ['GitHub fine-grained token', 'forge', `github_pat_${ALNUM.slice(0, 22)}_${ALNUM.slice(0, 59)}`],
  ['GitLab personal token', 'forge', `glpat-${ALNUM.slice(0, 20)}`],
  ['GitLab deploy token', 'forge', `gldt-${ALNUM.slice(0, 20)}`],
  ['GitLab runner token', 'forge', `glrt-${ALNUM.slice(0, 20)}`],
  ['Slack bot token', 'chat', `xoxb-${run('1', 12)}-${run('2', 13)}-${ALNUM.slice(0, 24)}`],
  ['Slack user token', 'chat', `xoxp-${run('1', 12)}-${run('2', 13)}-${ALNUM.slice(0, 24)}`],
  ['Slack app-level token', 'chat', `xapp-1-A0${run('1', 9)}-${run('2', 13)}-${HEX}`],
  [
    'Slack webhook URL',
    'alerts',
    'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  ],
  ['Discord webhook URL', 'alerts', `https://discord.com/api/webhooks/${run('1', 18)}/${ALNUM.slice(0, 60)}`],
  [
    'Teams webhook URL',
    'alerts',
    `https://contoso.webhook.office.com/webhookb2/${HEX.slice(0, 32)}@${HEX.slice(0, 32)}`,
  ],
  ['Stripe secret key', 'payments', `sk_live_${ALNUM.slice(0, 24)}`],
  ['Stripe restricted key', 'payments', `rk_test_${ALNUM.slice(0, 24)}`],
  ['Stripe webhook secret', 'payments', `whsec_${ALNUM.slice(0, 32)}`],
  ['npm token', 'registry', `npm_${ALNUM.slice(0, 36)}`],
  ['.npmrc auth token line', 'registry', `//registry.npmjs.org/:_authToken=${HEX.slice(0, 36)}`],
  ['.npmrc basic auth line', 'registry', `registry=https://npm.example.com/\n_auth=${B64}`],
  ['PyPI token', 'registry', `pypi-AgEIcHlwaS5vcmc${ALNUM.slice(0, 50)}`],
  ['.pypirc password', 'upload', '[pypi]\nusername = __token__\npassword = hunter2hunter2'],
  ['JSON web token', 'header', `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${ALNUM.slice(0, 43)}`],
  [
    'PEM RSA private key',
    'tls',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
  ],
  ['PEM PKCS#8 private key', 'tls', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----'],
  [
    'OpenSSH private key',
    'deploy',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----',
  ],
  [
    'PGP private key',
    'signing',
    '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----',
  ],
  [
    'kubeconfig client key',
    'cluster_config',
    'users:\n- name: ci\n  user:\n    client-key-data: LS0tLS1CRUdJTg==',
  ],
  ['PostgreSQL URL with a password', 'database', 'postgres://app:Sup3rS3cret@db.internal:5432/app'],
  ['Redis URL with a password and no user', 'cache', 'redis://:Sup3rS3cret@cache.internal:6379'],
  ['MongoDB SRV URL', 'database', 'mongodb+srv://app:Sup3rS3cret@cluster0.example.mongodb.net/app'],
  ['AMQP URL', 'queue', 'amqp://guest:Sup3rS3cret@rabbit.internal:5672/'],
  [
    'SQL Server connection string',
    'database',
    'Server=tcp:db.internal,1433;Database=app;User Id=app;Password=Sup3rS3cret!;',
  ],
  [
    'JDBC URL with a password parameter',
    'database',
    'jdbc:mysql://db.internal:3306/app?user=app&password=Sup3rS3cret',
  ],
  [
    'Azure storage connection string',
    'storage',
    `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${ALNUM.slice(0, 40)}==;EndpointSuffix=core.windows.net`,
  ],
  [
    'Azure Service Bus connection string',
    'bus',
    `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${ALNUM.slice(0, 43)}=`,
  ],
  ['docker config auths', 'registry_config', `{"auths":{"registry.example.com":{"auth":"${B64}"}}}`],
  ['HTTP bearer value', 'header', `Bearer ${ALNUM.slice(0, 32)}`],
  ['HTTP basic value', 'header', `Basic ${B64}`],
  ['authorization header line', 'extra_headers', `X-Trace: 1\nAuthorization: token ${HEX.slice(0, 40)}`],
  ['Google API key', 'maps', `AIza${ALNUM.slice(0, 35)}`],
  ['Google OAuth client secret', 'oidc', `GOCSPX-${ALNUM.slice(0, 28)}`],
  ['OpenAI project key', 'llm', `sk-proj-${ALNUM.slice(0, 48)}`],
  ['Anthropic key', 'llm', `sk-ant-api03-${ALNUM.slice(0, 64)}`],
  ['SendGrid key', 'mail', `SG.${ALNUM.slice(0, 22)}.${ALNUM.slice(0, 43)}`],
  ['HashiCorp Vault token', 'vault', `hvs.${ALNUM.slice(0, 24)}`],
  ['DigitalOcean token', 'cloud', `dop_v1_${HEX}`],
  ['Shopify access token', 'shop', `shpat_${HEX.slice(0, 32)}`],
  ['age secret key', 'sops', `AGE-SECRET-KEY-1${run('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)}`],
  ['Telegram bot token', 'bot', `123456789:AA${ALNUM.slice(0, 33)}`],
  [
    'Azure SAS URL',
    'artifact',
    `https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=${ALNUM.slice(0, 43)}%3D`,
  ],
  [
    'S3 presigned URL',
    'artifact',
    `https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${HEX}`,
  ],
  ['.env file content', 'dotenv', 'DB_HOST=db.internal\nDB_PASSWORD=Sup3rS3cret'],
  ['HMAC key (by key)', 'hmac_key', 'c2VjcmV0'],
  ['session key (by key)', 'session_key', 'c2VjcmV0'],
  ['session secret (by key)', 'SESSION_SECRET', 'keyboard cat'],
  ['webhook URL (by key)', 'slack_webhook_url', 'https://example.com/hook'],
  ['.netrc content (by key)', 'netrc', 'machine github.com login ci password x'],
  ['.npmrc content (by key)', 'npmrc', 'always-auth=true'],
  ['kubeconfig (by key)', 'kubeconfig', 'apiVersion: v1\nkind: Config'],
  ['client secret (by key)', 'client_secret', 'abc'],
];

const LOOK_ALIKES: readonly (readonly [what: string, key: string, value: string | number | boolean])[] = [
  ['a token lifetime', 'token_ttl', 60],
  ['a token endpoint', 'token_url', 'https://auth.example.com/oauth2/token'],
  ['where public keys are', 'public_key_url', 'https://example.com/.well-known/jwks.json'],
  // a pointer into a secret store: agents resolve it with their own credentials; people must see which one
  ['a secret store name', 'secret_name', 'prod/db/password'],
  ['a secret store ARN', 'secret_arn', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf'],
  ['a kubeconfig path', 'kubeconfig_path', '~/.kube/config'],
  ['a password policy number', 'password_min_length', 12],
  ['an OAuth issuer', 'oauth_issuer', 'https://login.example.com'],
  ['an authorization endpoint', 'authorization_endpoint', 'https://login.example.com/authorize'],
  ['an image', 'image', 'registry.example.com/team/api:v1.2.3'],
  ['an image tag', 'image_tag', 'v1.2.3-rc.1'],
  ['an image digest', 'image_digest', `sha256:${HEX}`],
  ['a host name', 'host', 'db.internal.example.com'],
  ['a port', 'port', 5432],
  ['a database URL without password', 'database_url', 'postgres://db.internal:5432/app'],
  ['a Redis URL without password', 'redis_url', 'redis://cache.internal:6379/0'],
  ['an ssh clone URL', 'clone_url', 'ssh://git@github.com/org/repo.git'],
  ['an scp-like repository', 'repository', 'git@github.com:org/repo.git'],
  ['a health endpoint with a query', 'health_check', 'https://api.example.com/healthz?verbose=1'],
  ['feature flags', 'feature_flags', 'dark_mode,new_checkout'],
  ['a boolean', 'enable_tls', true],
  ['a tokenizer', 'tokenizer', 'wordpiece'],
  ['a model limit', 'max_tokens', 4096],
  ['an author', 'author', 'Jane Doe <jane@example.com>'],
  ['a commit', 'commit', '3f2a9c1d0b'],
  ['a region', 'aws_region', 'eu-west-1'],
  ['a role ARN', 'role_arn', 'arn:aws:iam::123456789012:role/deploy'],
  [
    'a JWKS URI',
    'jwks_uri',
    'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf/.well-known/jwks.json',
  ],
  ['a note about tokens', 'notes', 'Rotate the deploy token every 30 days'],
  [
    'a public certificate',
    'ca_certificate',
    '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----',
  ],
  [
    'a public ssh key',
    'public_key',
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ci@example',
  ],
  ['a bucket', 's3_bucket', 'team-artifacts-prod'],
  ['a strategy', 'deployment_strategy', 'blue-green'],
];

describe('credential shapes', () => {
  it('has at least 40 real-world shapes and 20 look-alikes', () => {
    expect(CREDENTIALS.length).toBeGreaterThanOrEqual(40);
    expect(LOOK_ALIKES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CREDENTIALS)(
    '%s is a secret: answered as the marker and left out of task payloads',
    (_shape, key, value) => {
      expect(isSecretConfigEntry(key, value)).toBe(true);
      const split = splitSecrets({ [key]: value, namespace: 'default' });
      expect(split.visible).toEqual({ [key]: REDACTED, namespace: 'default' });
      expect(split.secrets).toEqual({ [key]: value });
      const payload = redactSecrets({ nested: { [key]: value }, namespace: 'default' });
      expect(JSON.stringify(payload.config)).not.toContain(value);
      expect(payload.secret_keys).toEqual([`nested.${key}`]);
    },
  );

  it.each(LOOK_ALIKES)('%s stays readable', (_what, key, value) => {
    expect(isSecretConfigEntry(key, value)).toBe(false);
    expect(splitSecrets({ [key]: value }).visible).toEqual({ [key]: value });
    expect(redactSecrets({ [key]: value })).toEqual({ config: { [key]: value }, secret_keys: [] });
  });
});
