import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from './synthesize';

/**
 * cfn-lint (AWS's CloudFormation linter, Python, on the PATH of the development and CI
 * image) over the synthesized template. The one place where a finding may be accepted:
 * by rule id, with the reason. Every other finding, error or warning, fails the test.
 */
const ACCEPTED_FINDINGS: Readonly<Record<string, string>> = {
  E3601:
    "cfn-lint's Step Functions schema has no OutputPath on Succeed states; the Amazon States " +
    'Language allows it (InputPath and OutputPath on Succeed) and the workflows use it to end ' +
    "a skipped step's iteration with its summary",
  W3005:
    "CDK's generated DependsOn on a function's or state machine's role policy also names the " +
    'role that a GetAtt already orders; the duplicate is harmless and not ours to remove',
};

interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
}

function cfnLint(templateFile: string): Finding[] {
  const run = spawnSync('cfn-lint', ['--format', 'json', templateFile], { encoding: 'utf8' });
  if (run.error) {
    throw new Error(
      `cfn-lint could not be run (${run.error.message}): install it (pip install cfn-lint) and put it on the PATH`,
    );
  }
  // Exit codes are a bit field of the levels found (2 error, 4 warning, 8 informational); 1 is a crash.
  if (run.status === 1 || run.stdout.trim() === '') {
    throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr}`);
  }
  return JSON.parse(run.stdout) as Finding[];
}

describe('cfn-lint on the synthesized template', () => {
  let findings: Finding[];
  beforeAll(() => {
    const synthesized = synthesize();
    findings = cfnLint(synthesized.assembly.getStackByName(synthesized.stack.stackName).templateFullPath);
  });

  it('finds nothing beyond the accepted rules', () => {
    const unaccepted = findings
      .filter((finding) => ACCEPTED_FINDINGS[finding.Rule.Id] === undefined)
      .map((finding) => `${finding.Rule.Id} at ${finding.Location.Path.join('/')}: ${finding.Message}`);
    expect(unaccepted).toEqual([]);
  });

  it('accepts only rules that still find something, each with its reason', () => {
    const found = new Set(findings.map((finding) => finding.Rule.Id));
    for (const [rule, reason] of Object.entries(ACCEPTED_FINDINGS)) {
      expect(found.has(rule), `${rule} is accepted but no longer found: remove it`).toBe(true);
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});
