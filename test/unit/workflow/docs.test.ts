import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatTransitionsReport, transitionsReport } from '../../../scripts/report-transitions';

const workflowsDoc = await readFile(new URL('../../../docs/workflows.md', import.meta.url), 'utf8');

describe('docs/workflows.md', () => {
  it('shows the transitions table that npm run transitions prints', () => {
    const between = /<!-- transitions:start -->\n([\s\S]*?)\n<!-- transitions:end -->/.exec(workflowsDoc);
    expect(between?.[1]).toBe(formatTransitionsReport(transitionsReport()));
  });
});
