import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TaskFailure } from '../../../agent/executors/executor';
import {
  batchSize,
  PhysicalConfig,
  parseHostAddress,
  releaseName,
} from '../../../agent/executors/physical/config';
import { pinnedKeysFor, verifyHostKey } from '../../../agent/executors/physical/known-hosts';
import { renderCommand, shellQuote } from '../../../agent/executors/physical/shell';

const run = promisify(execFile);

const NASTY = [
  "it's",
  "'; rm -rf / #",
  '$(touch /tmp/x)',
  '`id`',
  '"double" and \\backslash\\',
  'new\nline',
  '{release_dir}',
  '',
  '-n',
];

describe('shell quoting of template values', () => {
  it.each(NASTY)('hands %j to /bin/sh as one literal argument', async (value) => {
    const { stdout } = await run('/bin/sh', ['-c', `printf '%s|' ${shellQuote(value)} | od -An -c`]);
    const { stdout: expected } = await run('/bin/sh', ['-c', `printf '%s|' "$1" | od -An -c`, 'sh', value]);
    expect(stdout).toBe(expected);
  });

  it('fills known placeholders and leaves shell braces alone', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable the template leaves alone
    const command = renderCommand('cd {release_dir} && echo ${HOME} {unknown} && { echo {git_tag}; }', {
      application: 'shop',
      git_tag: "v1'x",
      image: 'shop:v1',
      host: 'h',
      port: undefined,
      slot: 'live',
      release_root: '/opt/shop',
      release_dir: '/opt/shop/releases/v1',
      current_dir: '/opt/shop/current',
    });
    expect(command).toBe(`cd '/opt/shop/releases/v1' && echo \${HOME} {unknown} && { echo 'v1'\\''x'; }`);
  });
});

describe('pinned host keys', () => {
  const key = (seed: string): string => Buffer.from(`ssh-ed25519-blob-${seed}`).toString('base64');
  const blob = (seed: string): Buffer => Buffer.from(`ssh-ed25519-blob-${seed}`);

  it('finds a host by plain name on any port, and by [host]:port on that port only', () => {
    const text = [
      `# comment`,
      `web1.example.com,10.0.0.5 ssh-ed25519 ${key('a')}`,
      `[10.0.0.6]:2222 ssh-ed25519 ${key('b')} root@web2`,
      `@cert-authority *.example.com ssh-ed25519 ${key('ca')}`,
    ].join('\n');
    expect(verifyHostKey(pinnedKeysFor(text, '10.0.0.5', 22), blob('a'))).toBe('pinned');
    expect(verifyHostKey(pinnedKeysFor(text, '10.0.0.5', 2200), blob('a'))).toBe('pinned');
    expect(verifyHostKey(pinnedKeysFor(text, '10.0.0.6', 2222), blob('b'))).toBe('pinned');
    expect(verifyHostKey(pinnedKeysFor(text, '10.0.0.6', 22), blob('b'))).toBe('unknown');
    expect(verifyHostKey(pinnedKeysFor(text, 'web1.example.com', 22), blob('b'))).toBe('changed');
    expect(verifyHostKey(pinnedKeysFor(text, 'web3.example.com', 22), blob('ca'))).toBe('unknown');
  });

  it('honours wildcards, negations and @revoked', () => {
    const text = [
      `*.prod.example.com,!db.prod.example.com ssh-ed25519 ${key('a')}`,
      `@revoked * ssh-ed25519 ${key('old')}`,
    ].join('\n');
    expect(verifyHostKey(pinnedKeysFor(text, 'web.prod.example.com', 22), blob('a'))).toBe('pinned');
    expect(verifyHostKey(pinnedKeysFor(text, 'db.prod.example.com', 22), blob('a'))).toBe('unknown');
    expect(verifyHostKey(pinnedKeysFor(text, 'web.prod.example.com', 22), blob('old'))).toBe('revoked');
  });

  it('matches the hashed entries ssh-keygen -H writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'known-hosts-'));
    try {
      const file = join(dir, 'known_hosts');
      await writeFile(file, `10.1.2.3 ssh-ed25519 ${key('a')}\n[10.1.2.4]:2022 ssh-ed25519 ${key('b')}\n`);
      await run('ssh-keygen', ['-H', '-f', file]);
      const hashed = await readFile(file, 'utf8');
      expect(hashed).not.toContain('10.1.2');
      expect(verifyHostKey(pinnedKeysFor(hashed, '10.1.2.3', 22), blob('a'))).toBe('pinned');
      expect(verifyHostKey(pinnedKeysFor(hashed, '10.1.2.4', 2022), blob('b'))).toBe('pinned');
      expect(verifyHostKey(pinnedKeysFor(hashed, '10.1.2.4', 2022), blob('a'))).toBe('changed');
      expect(verifyHostKey(pinnedKeysFor(hashed, '10.1.2.5', 22), blob('a'))).toBe('unknown');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('physical environment config', () => {
  it('reads host, host:port and bracketed IPv6 addresses', () => {
    expect(parseHostAddress('web1', 22)).toEqual({ name: 'web1', host: 'web1', port: 22 });
    expect(parseHostAddress('10.0.0.5:2222', 22)).toEqual({
      name: '10.0.0.5:2222',
      host: '10.0.0.5',
      port: 2222,
    });
    expect(parseHostAddress('[fd00::5]:2200', 22)).toEqual({
      name: '[fd00::5]:2200',
      host: 'fd00::5',
      port: 2200,
    });
    expect(parseHostAddress('fd00::5', 2022)).toEqual({ name: 'fd00::5', host: 'fd00::5', port: 2022 });
    expect(() => parseHostAddress('web1;reboot', 22)).toThrow(TaskFailure);
    expect(() => parseHostAddress('web1:99999', 22)).toThrow(TaskFailure);
  });

  it('takes the hosts as one string, as the API stores config values, or as a list', () => {
    const hosts = (value: unknown) =>
      PhysicalConfig.safeParse({ hosts: value, fetch_command: 'f', restart_command: 'r' }).data?.hosts;
    expect(hosts('10.0.0.5, 10.0.0.6 [fd00::7]:2222')).toEqual(['10.0.0.5', '10.0.0.6', '[fd00::7]:2222']);
    expect(hosts(['10.0.0.5', 'web2:2222'])).toEqual(['10.0.0.5', 'web2:2222']);
    expect(hosts(' , ')).toBeUndefined();
    expect(hosts([])).toBeUndefined();
  });

  it('turns max_unavailable into a batch size between one and all hosts', () => {
    const config = (max_unavailable: unknown) =>
      PhysicalConfig.parse({ hosts: ['a'], fetch_command: 'f', restart_command: 'r', max_unavailable });
    expect(batchSize(config(undefined), 4)).toBe(1);
    expect(batchSize(config(2), 4)).toBe(2);
    expect(batchSize(config(10), 4)).toBe(4);
    expect(batchSize(config('50%'), 4)).toBe(2);
    expect(batchSize(config('10%'), 4)).toBe(1);
  });

  it('names a release directory after the tag, without path separators or a leading dot', () => {
    expect(releaseName('v1.2.3')).toBe('v1.2.3');
    expect(releaseName('release/1.0')).toBe('release_1.0');
    expect(releaseName(".hidden'$(x)")).toBe('_.hidden___x_');
  });

  it('refuses a release root outside plain absolute paths', () => {
    const parse = (release_root: string) =>
      PhysicalConfig.safeParse({ hosts: ['a'], fetch_command: 'f', restart_command: 'r', release_root })
        .success;
    expect(parse('/opt/shop')).toBe(true);
    expect(parse('opt/shop')).toBe(false);
    expect(parse('/opt/../etc')).toBe(false);
    expect(parse("/opt/sh'op")).toBe(false);
  });
});
