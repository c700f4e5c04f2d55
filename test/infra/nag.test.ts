import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthesize } from './synthesize';

/** The default deployment, and one with every context option that changes resources. */
const CONTEXTS: readonly [string, Record<string, string>][] = [
  ['default context', {}],
  [
    'every option set',
    {
      corsOrigins: 'https://console.example.com,https://ops.example.com',
      userPoolId: 'eu-west-1_Example1',
      alarmEmail: 'ops@example.com',
      destroyOnRemoval: 'true',
      logRetentionDays: '90',
    },
  ],
];

describe.each(CONTEXTS)('cdk-nag AwsSolutions, %s', (_name, context) => {
  let synthesized: Synthesized;
  beforeAll(() => {
    // cdk-nag runs inside the synthesis: an unacknowledged error-level finding throws here.
    synthesized = synthesize(context);
  });

  interface Violation {
    readonly ruleName: string;
    readonly severity: string;
    readonly violatingConstructs: readonly { constructPath: string }[];
    readonly acknowledgedId?: string;
    readonly acknowledgedAt?: string;
    readonly reason?: string;
  }

  interface PluginReport {
    readonly pluginName: string;
    readonly conclusion: string;
    readonly violations: readonly Violation[];
    readonly suppressedViolations?: readonly Violation[];
  }

  /** CDK's policy-validation report of the synthesis (cdk-nag 3 reports through it). */
  const report = (): PluginReport => {
    const file = join(synthesized.assembly.directory, 'validation-report.json');
    const { pluginReports } = JSON.parse(readFileSync(file, 'utf8')) as { pluginReports: PluginReport[] };
    const nag = pluginReports.find((plugin) => plugin.pluginName === 'AwsSolutions');
    if (!nag)
      throw new Error(`no AwsSolutions report among ${pluginReports.map((plugin) => plugin.pluginName)}`);
    return nag;
  };

  it('has no unacknowledged finding, errors and warnings alike', () => {
    const unacknowledged = report().violations.map(
      (violation) =>
        `${violation.ruleName} at ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
    );
    expect(unacknowledged).toEqual([]);
    expect(report().conclusion).toBe('success');
  });

  it('gives a reason for every acknowledged finding', () => {
    const acknowledged = report().suppressedViolations ?? [];
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const violation of acknowledged) {
      expect(
        violation.reason?.length ?? 0,
        `${violation.ruleName} at ${violation.acknowledgedAt}`,
      ).toBeGreaterThan(40);
    }
  });

  it('acknowledges nothing that is not found: every acknowledgment matches a finding', () => {
    const used = new Set(
      (report().suppressedViolations ?? []).map(
        (violation) => `${violation.acknowledgedAt} ${violation.acknowledgedId}`,
      ),
    );
    const declared = synthesized.stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        // each entry's data is `{ "<rule id>": "<reason>" }`
        .flatMap((entry) => Object.keys(entry.data as object).map((id) => `${construct.node.path} ${id}`)),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.filter((acknowledgment) => !used.has(acknowledgment))).toEqual([]);
  });
});
