import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runCommand } from '../process/run-command';
import { type TaskContext, TaskFailure } from './executor';

/** A repository URL as logs may show it: without a password or token in it. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') {
      parsed.username = parsed.username === '' ? '' : '***';
      parsed.password = '';
    }
    return parsed.toString();
  } catch {
    return url;
  }
}

const COMMIT = /^[0-9a-f]{7,64}$/;
const GIT_ENVIRONMENT = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };

/**
 * Clones the version's repository into `<workDir>/checkout` and checks out its commit,
 * then verifies that HEAD is that commit (the full hash, or a hash starting with the given
 * prefix): a tag or branch that happens to be named like the commit is refused.
 */
export async function checkoutVersion(context: TaskContext): Promise<{ dir: string; commit: string }> {
  const { payload, signal, log, workDir } = context;
  const repository = payload.version.repository || payload.application.repository;
  const wanted = payload.version.git_commit.trim().toLowerCase();
  if (!COMMIT.test(wanted))
    throw new TaskFailure(
      'InvalidCommit',
      `version.git_commit "${payload.version.git_commit}" is not a commit hash (7 to 64 hex digits)`,
    );
  const dir = join(workDir, 'checkout');
  await mkdir(dir, { recursive: true });
  const git = (args: string[], display?: string) =>
    runCommand({
      argv: ['git', ...args],
      cwd: dir,
      env: GIT_ENVIRONMENT,
      signal,
      log,
      captureStdout: true,
      ...(display ? { display } : {}),
    });

  log.info(`cloning ${displayUrl(repository)} at ${wanted}`);
  const clone = await git(
    ['clone', '--no-checkout', '--quiet', '--', repository, '.'],
    `git clone --no-checkout ${displayUrl(repository)} .`,
  );
  if (!clone.ok)
    throw new TaskFailure('CloneFailed', describeFailure(clone, `git clone of ${displayUrl(repository)}`));
  const checkout = await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', wanted]);
  if (!checkout.ok)
    throw new TaskFailure('CheckoutFailed', describeFailure(checkout, `git checkout of ${wanted}`));
  const head = await git(['rev-parse', 'HEAD']);
  const commit = head.stdout.trim();
  if (!head.ok || !commit.startsWith(wanted))
    throw new TaskFailure(
      'CommitMismatch',
      `the checkout is at ${commit || 'an unknown commit'}, not at the version's commit ${wanted}; refusing to go on`,
    );
  log.info(`checked out ${commit}`);
  return { dir, commit };
}
