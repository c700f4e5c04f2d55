import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { IConstruct } from 'constructs';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, esbuildOptions } from '../../lib/functions';
import { defined, propertiesOfConstruct, type Synthesized, synthesize } from './synthesize';

/**
 * The budget of one handler's code, minified and gzipped (the measure `size-limit` reports
 * and roughly what the deployment zip carries). Raw sizes are in the failure message.
 */
const BUDGET_GZIP_BYTES = 300 * 1024;

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

/** The bundled `index.mjs` a function's Code points at, found through the stack's asset manifest. */
function bundleOf(fn: IConstruct): string {
  const code = propertiesOfConstruct(synthesized, fn).Code as { S3Key: string };
  const hash = code.S3Key.replace(/\.zip$/, '');
  return readFileSync(join(synthesized.assembly.directory, `asset.${hash}`, 'index.mjs'), 'utf8');
}

const functions = () => [
  ...synthesized.stack.apiFunctions.functions.entries(),
  ['status-metrics', synthesized.stack.statusMetrics.function] as const,
];

describe('the handler bundles', () => {
  it('are ES modules with a require shim, minified, with a source map', () => {
    for (const [name, fn] of functions()) {
      const code = bundleOf(fn);
      expect(code.startsWith(ESM_REQUIRE_BANNER), name).toBe(true);
      expect(code, name).toMatch(/\n\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(code.split('\n').length, name).toBeLessThan(200);
    }
  });

  it('bundle the AWS SDK they use (nothing external but Node built-ins)', () => {
    for (const [name, fn] of functions()) {
      const code = bundleOf(fn);
      expect(code, name).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(code, name).not.toMatch(/require\(["']@aws-sdk\//);
    }
  });

  it(`stay under ${BUDGET_GZIP_BYTES / 1024} KiB minified + gzipped`, () => {
    for (const [name, fn] of functions()) {
      const code = bundleOf(fn);
      const gzipped = gzipSync(code, { level: 9 }).byteLength;
      expect(gzipped, `${name}: ${code.length} bytes minified, ${gzipped} gzipped`).toBeLessThan(
        BUDGET_GZIP_BYTES,
      );
    }
  });

  it('are what esbuildOptions (used by scripts/bench) builds, byte for byte', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'deploy-manager-esbuild-'));
    for (const [name, fn] of functions()) {
      const result = await build({ ...esbuildOptions(name, join(outdir, 'index.mjs')), write: false });
      const code = defined(
        result.outputFiles.find((file) => file.path.endsWith('index.mjs')),
        'index.mjs',
      );
      expect(code.text, name).toBe(bundleOf(fn));
    }
  });

  it('carry only the environment credential provider of the SDK', () => {
    const code = bundleOf(defined(synthesized.stack.apiFunctions.functions.get('versions'), 'versions'));
    // credential-provider-ini / -sso / -web-identity would bring their STS and SSO clients along
    for (const absent of ['sso-oidc', 'AssumeRoleWithWebIdentity', 'credential_process']) {
      expect(code).not.toContain(absent);
    }
  });
});
