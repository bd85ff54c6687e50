import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../../src/cli/console-summary.js';
import type { FailureGroup } from '../../../src/report/failure-groups.js';
import { emptySummary, type ReportSummary } from '../../../src/report/report-record.js';

function summary(overrides: Partial<ReportSummary>): ReportSummary {
  return { ...emptySummary(), ...overrides };
}

const paths = { dir: '/r/run-1', json: '/r/run-1/report.json', csv: '/r/run-1/report.csv', html: '/r/run-1/report.html' };

describe('formatSummary', () => {
  it('prints each outcome with its count and share, and the report paths', () => {
    const text = formatSummary({ runId: 'run-1', summary: summary({ total: 4, imported: 3, failed: 1 }), groups: [], paths, verified: false });
    expect(text).toContain('Run run-1: 4 record(s)');
    expect(text).toMatch(/imported\s+3 {2}\(75\.0%\)/);
    expect(text).toMatch(/failed\s+1 {2}\(25\.0%\)/);
    expect(text).toMatch(/conflict\s+0\n/);
    expect(text).toContain('Report: /r/run-1/report.html');
    expect(text).toContain('/r/run-1/report.json');
    expect(text).toContain('/r/run-1/report.csv');
    expect(text).not.toContain('verified in STA');
  });

  it('prints verification counts and shouts about imported records missing in STA', () => {
    const verified = { present: 2, missing: 1, notChecked: 0, importedButMissing: 1 };
    const text = formatSummary({ runId: 'run-1', summary: summary({ total: 3, imported: 3, verified }), groups: [], paths: null, verified: true });
    expect(text).toContain('verified in STA   present 2, missing 1, not checked 0');
    expect(text).toContain('!! 1 record(s) reported imported are MISSING in STA');
    expect(text).not.toContain('Report:');
  });

  it('lists the five largest failure reasons', () => {
    const groups: FailureGroup[] = Array.from({ length: 7 }, (_, i) => ({
      outcome: 'failed',
      httpStatus: 500,
      message: `reason ${i}`,
      count: 7 - i,
      examples: [],
    }));
    const text = formatSummary({ runId: 'run-1', summary: summary({ total: 28, failed: 28 }), groups, paths: null, verified: false, note: 'a note' });
    expect(text).toContain('Top failure reasons:');
    expect(text).toContain('7 × failed 500: reason 0');
    expect(text).toContain('3 × failed 500: reason 4');
    expect(text).not.toContain('reason 5');
    expect(text.trimEnd().endsWith('a note')).toBe(true);
  });
});
