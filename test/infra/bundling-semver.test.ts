import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gte } from '../../lib/bundling/semver';

const require = createRequire(import.meta.url);

/**
 * The semver that aws-xray-sdk-core (a dependency of Powertools' tracer) resolves: the one
 * lib/bundling/semver.ts replaces in the bundles.
 */
const xray = createRequire(require.resolve('@aws-lambda-powertools/tracer')).resolve('aws-xray-sdk-core');
const real = createRequire(xray)('semver') as {
  gte(left: string, right: string): boolean;
  valid(version: string): string | null;
};

const number = fc.oneof(fc.constantFrom(0, 1, 2, 9, 10, 11), fc.nat({ max: 2000 }));
const identifier = fc.oneof(
  fc.nat({ max: 20 }).map(String),
  fc.constantFrom('alpha', 'beta', 'rc', 'a', 'b', 'x-1', '1a', 'Z'),
);
const version = fc
  .record({
    release: fc.tuple(number, number, number),
    prerelease: fc.array(identifier, { maxLength: 3 }),
    build: fc.option(fc.constantFrom('build.1', 'sha.abc', '001'), { nil: undefined }),
    prefix: fc.constantFrom('', 'v', ' '),
  })
  .map(
    ({ release, prerelease, build, prefix }) =>
      `${prefix}${release.join('.')}${prerelease.length > 0 ? `-${prerelease.join('.')}` : ''}${build ? `+${build}` : ''}`,
  );

describe('the semver stand-in of the bundles', () => {
  it.each([
    ['2.7.15', '2.7.15', true],
    ['2.1693.0', '2.7.15', true],
    ['2.7.9', '2.7.15', false],
    ['v24.21.0', '8.0.0', true],
    ['1.0.0-alpha', '1.0.0', false],
    ['1.0.0-alpha.1', '1.0.0-alpha', true],
    ['1.0.0-alpha.beta', '1.0.0-alpha.1', true],
    ['1.0.0-beta.11', '1.0.0-beta.2', true],
    ['1.0.0-rc.1', '1.0.0-beta.11', true],
    ['1.0.0+build.5', '1.0.0', true],
  ])('gte(%s, %s) is %s', (left, right, expected) => {
    expect(gte(left, right)).toBe(expected);
    expect(real.gte(left, right)).toBe(expected);
  });

  it('agrees with semver on any pair of versions', () => {
    fc.assert(
      fc.property(version, version, (left, right) => {
        expect(gte(left, right)).toBe(real.gte(left, right));
      }),
      { numRuns: 2000 },
    );
  });

  it.each(['', 'x', '1.2', '01.2.3', '1.2.3-', '1.2.3-01', '=1.2.3', '1.2.3.4'])(
    'refuses %j as semver does',
    (invalid) => {
      expect(real.valid(invalid)).toBeNull();
      expect(() => real.gte(invalid, '1.0.0')).toThrow(TypeError);
      expect(() => gte(invalid, '1.0.0')).toThrow(TypeError);
    },
  );
});
