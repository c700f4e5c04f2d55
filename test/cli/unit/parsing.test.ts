import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../../cli/exit-codes';
import { run } from '../../../cli/main';
import { parseConfigPairs, parseDuration } from '../../../cli/parse';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  return { out: () => out.join(''), err: () => err.join('') };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('durations and config pairs', () => {
  it('reads 90s, 10m, 1h, 500ms and bare seconds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2')).toBe(2000);
  });

  it('refuses what is not a duration, as a usage error', () => {
    expect(() => parseDuration('soon')).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
  });

  it('keeps numbers and booleans of --config as JSON types', () => {
    expect(parseConfigPairs(['port=8080', 'debug=true', 'url=https://x?a=b'])).toEqual({
      port: 8080,
      debug: true,
      url: 'https://x?a=b',
    });
    expect(() => parseConfigPairs(['novalue'])).toThrow(/key=value/);
  });
});

describe('the command line', () => {
  it('--help lists the commands and the exit codes', async () => {
    const output = capture();
    expect(await run(['--help'], '1.2.3')).toBe(EXIT.success);
    const help = output.out();
    for (const command of [
      'login',
      'deploy',
      'watch',
      'logs',
      'cancel',
      'retry',
      'resume',
      'rollback',
      'history',
    ])
      expect(help).toContain(command);
    expect(help).toContain('3  timed out (--timeout)');
    expect(help).toContain('4  the deployment was cancelled');
    expect(help).toContain('5  not signed in, or forbidden');
  });

  it('--version prints the version, and deploy --version is the version to deploy', async () => {
    const output = capture();
    expect(await run(['--version'], '1.2.3')).toBe(EXIT.success);
    expect(output.out()).toBe('1.2.3\n');
    // Without --env the deploy command refuses: --version went to it, not to the program.
    expect(await run(['deploy', '--app', 'a', '--version', 'v1'], '1.2.3')).toBe(EXIT.usage);
    expect(output.err()).toContain("required option '--env <name-or-id>' not specified");
  });

  it('an unknown command, a missing argument or a bad option value is exit 2', async () => {
    capture();
    expect(await run(['deploi'], '1')).toBe(EXIT.usage);
    expect(await run(['watch'], '1')).toBe(EXIT.usage);
    expect(await run(['--output', 'yaml', 'apps', 'list'], '1')).toBe(EXIT.usage);
    expect(await run(['watch', 'not-a-deployment'], '1')).toBe(EXIT.usage);
    expect(await run(['rollback', 'dep_00000000000000000000000000', '--to', 'v1', '--previous'], '1')).toBe(
      EXIT.usage,
    );
  });

  it('without a profile or token a command is exit 5, with one line saying what to do', async () => {
    const output = capture();
    vi.stubEnv('XDG_CONFIG_HOME', '/nonexistent-deployctl-test');
    vi.stubEnv('DEPLOYCTL_TOKEN', '');
    vi.stubEnv('DEPLOYCTL_PROFILE', '');
    expect(await run(['apps', 'list'], '1')).toBe(EXIT.notSignedIn);
    expect(output.err()).toBe(
      'error: not signed in (profile "default"): run deployctl login, or set DEPLOYCTL_TOKEN (UNAUTHORIZED)\n',
    );
    vi.unstubAllEnvs();
  });
});
