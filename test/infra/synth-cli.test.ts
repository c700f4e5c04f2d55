import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { STACK_NAME } from '../../lib/deploy-manager-app';
import { PROJECT_ROOT } from '../../lib/functions';

const run = promisify(execFile);

/** The environment of a machine with no AWS account configured: the synthesis must not need one. */
function withoutAwsAccount(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const isolated: NodeJS.ProcessEnv = {
    ...environment,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    // offline: no npm version check, no telemetry
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
  for (const name of [
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'CDK_DEFAULT_ACCOUNT',
  ]) {
    delete isolated[name];
  }
  return isolated;
}

describe('npx cdk synth', () => {
  it('synthesizes the app offline, without Docker, with cdk-nag clean', async () => {
    const out = mkdtempSync(join(tmpdir(), 'deploy-manager-cli-'));
    const { stderr } = await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], {
      cwd: PROJECT_ROOT,
      timeout: 110_000,
      maxBuffer: 16 * 1024 * 1024,
      env: withoutAwsAccount(process.env),
    });
    expect(stderr).not.toMatch(/docker/i);
    const template = join(out, `${STACK_NAME}.template.json`);
    expect(existsSync(template)).toBe(true);
    const resources = Object.keys(
      (JSON.parse(readFileSync(template, 'utf8')) as { Resources: object }).Resources,
    );
    expect(resources.length).toBeGreaterThan(50);
    // Without an account the template names no region: it deploys to whichever it is given.
    const text = readFileSync(template, 'utf8');
    expect(text).toMatch(/"Ref":\s*"AWS::Region"/);
    expect(text).not.toMatch(/:(us|eu|ap|sa|ca|me|af)-[a-z]+-\d:/);
  }, 120_000);
});
