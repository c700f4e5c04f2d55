/**
 * Stands in for `semver` in the Lambda bundles (see BUNDLE_ALIASES in lib/functions.ts).
 *
 * The one `semver` call the bundles contain is aws-xray-sdk-core's check of an AWS SDK *v2*
 * version (`semver.gte(AWS.VERSION, minVersion)` in `captureAWS`, which Powertools' Tracer
 * reaches only through `tracer.captureAWS`, unused here), yet the package's index brings the
 * whole of semver along: ranges, coercion, subsets, about 25 KB minified in every handler.
 * This module is that one function, `gte`, with semver's parsing of a version (an optional
 * `v`, surrounding blanks ignored, anything else a TypeError) and SemVer 2.0.0 precedence.
 * test/infra/bundles.test.ts checks it against the real package.
 */

const IDENTIFIER = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][a-zA-Z0-9-]*)';
const VERSION = new RegExp(
  `^v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);
/** semver refuses longer version strings */
const MAX_LENGTH = 256;

interface Parsed {
  readonly release: readonly [number, number, number];
  readonly prerelease: readonly (string | number)[];
}

function parse(version: unknown): Parsed {
  const text = typeof version === 'string' ? version.trim() : '';
  const match = text.length <= MAX_LENGTH ? VERSION.exec(text) : null;
  if (!match) throw new TypeError(`Invalid Version: ${String(version)}`);
  const [, major = '', minor = '', patch = '', prerelease] = match;
  const release = [Number(major), Number(minor), Number(patch)] as const;
  if (!release.every(Number.isSafeInteger)) throw new TypeError(`Invalid Version: ${text}`);
  return {
    release,
    prerelease:
      prerelease === undefined
        ? []
        : prerelease.split('.').map((part) => {
            const value = Number(part);
            return /^\d+$/.test(part) && Number.isSafeInteger(value) ? value : part;
          }),
  };
}

const sign = (difference: number): -1 | 0 | 1 => (difference < 0 ? -1 : difference > 0 ? 1 : 0);

/** Numeric identifiers compare numerically and sort before alphanumeric ones, which compare in ASCII order. */
function compareIdentifiers(left: string | number, right: string | number): -1 | 0 | 1 {
  if (typeof left === 'number' && typeof right === 'number') return sign(left - right);
  if (typeof left === 'number') return -1;
  if (typeof right === 'number') return 1;
  return left === right ? 0 : left < right ? -1 : 1;
}

function compare(left: Parsed, right: Parsed): -1 | 0 | 1 {
  for (let position = 0; position < 3; position += 1) {
    const order = sign((left.release[position] ?? 0) - (right.release[position] ?? 0));
    if (order !== 0) return order;
  }
  // A pre-release sorts before its release; between two, the first differing identifier decides.
  if (left.prerelease.length === 0 || right.prerelease.length === 0) {
    return sign(right.prerelease.length - left.prerelease.length);
  }
  for (let position = 0; ; position += 1) {
    const [a, b] = [left.prerelease[position], right.prerelease[position]];
    if (a === undefined || b === undefined) {
      return a === undefined && b === undefined ? 0 : a === undefined ? -1 : 1;
    }
    const order = compareIdentifiers(a, b);
    if (order !== 0) return order;
  }
}

/** `semver.gte(left, right)`: whether `left` is the same version as `right` or a later one. */
export function gte(left: string, right: string): boolean {
  return compare(parse(left), parse(right)) >= 0;
}
