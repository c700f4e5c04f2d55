import * as z from 'zod';
import { hasControlCharacters } from './text';

/**
 * Characters a shell gives a meaning to. Agents hand the URL to git, and git to ssh; none of
 * these belongs in a repository URL people clone from.
 */
const SHELL_METACHARACTERS = /[`$;&|()<>\\"'*?{}[\]!#^]/;

const SCHEMES = new Set(['https', 'http', 'ssh', 'git']);

/** A host name or address; never starting with `-` (ssh would read it as an option). */
const HOST = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** An ssh user name; never starting with `-`. */
const USER = /^[A-Za-z0-9_][A-Za-z0-9._~-]*$/;

export const CREDENTIALS_IN_URL_MESSAGE =
  'must not carry credentials: agents hold the credentials for the repository (ssh://user@host/… and user@host:path name only the user)';

const FORM_MESSAGE = 'a repository URL: https://, ssh://, git:// or user@host:path';

function pathProblem(path: string): string | undefined {
  const segments = path.split('/').filter((segment) => segment.length > 0);
  if (segments.length === 0) return 'names no repository path';
  if (segments.some((segment) => segment.startsWith('-'))) return 'a path segment must not start with -';
  return undefined;
}

function userProblem(user: string): string | undefined {
  if (user.includes(':')) return CREDENTIALS_IN_URL_MESSAGE;
  if (user.startsWith('-')) return 'the user must not start with -';
  return USER.test(user) ? undefined : 'the user name has characters a user name cannot have';
}

function hostProblem(hostAndPort: string, allowPort: boolean): string | undefined {
  const [host = '', port, ...rest] = hostAndPort.split(':');
  if (host.startsWith('-')) return 'the host must not start with -';
  if (!HOST.test(host)) return 'the host is not a host name';
  if (rest.length > 0 || (port !== undefined && (!allowPort || !/^\d{1,5}$/.test(port)))) {
    return 'the port is not a number';
  }
  return undefined;
}

/** `scheme://[user@]host[:port]/path` */
function urlProblem(scheme: string, authority: string, path: string): string | undefined {
  if (!SCHEMES.has(scheme.toLowerCase())) return FORM_MESSAGE;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const user = authority.slice(0, at);
    // https and git:// take no user at all: a name there is a token (`https://ghp_…@github.com`) or asks for a password
    if (user.includes(':') || !scheme.toLowerCase().startsWith('ssh')) return CREDENTIALS_IN_URL_MESSAGE;
    const problem = userProblem(user);
    if (problem !== undefined) return problem;
  }
  return hostProblem(authority.slice(at + 1), true) ?? pathProblem(path);
}

/** `user@host:path`, git's scp-like syntax */
function scpProblem(user: string, host: string, path: string): string | undefined {
  if (path.startsWith('-')) return 'the path must not start with -';
  return userProblem(user) ?? hostProblem(host, false) ?? pathProblem(path);
}

/**
 * What is wrong with a repository URL, or undefined: it must be something git clones over the
 * network (never a local path), where no host, user or path segment can be read as an option,
 * with no control or shell characters and no credentials.
 */
export function repositoryUrlProblem(url: string): string | undefined {
  if (hasControlCharacters(url)) return 'must not contain control characters';
  if (/\s/.test(url)) return 'must not contain whitespace';
  if (SHELL_METACHARACTERS.test(url)) return 'must not contain shell metacharacters';
  const withScheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(url);
  if (withScheme) return urlProblem(withScheme[1] ?? '', withScheme[2] ?? '', withScheme[3] ?? '');
  // git reads `a@b:c` as scp-like only when no slash comes before the colon
  const scpLike = /^([^/@]+)@([^/:@]+):(.+)$/.exec(url);
  if (scpLike) return scpProblem(scpLike[1] ?? '', scpLike[2] ?? '', scpLike[3] ?? '');
  return FORM_MESSAGE;
}

/**
 * A repository URL. It becomes part of list-partition keys, and DynamoDB caps a key at
 * 2048 bytes, so the URL is bounded in bytes (not characters) well below that.
 */
export const RepositoryUrl = z
  .string()
  .trim()
  .min(1)
  .refine((value) => Buffer.byteLength(value, 'utf8') <= 1024, 'at most 1024 bytes')
  .superRefine((value, context) => {
    const problem = repositoryUrlProblem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  })
  .describe(FORM_MESSAGE);
