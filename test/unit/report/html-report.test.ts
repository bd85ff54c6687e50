import { describe, expect, it } from 'vitest';
import { FailureGroups } from '../../../src/report/failure-groups.js';
import { escapeHtml, renderHtmlReport, renderRecordRow, type HtmlReportInput } from '../../../src/report/html-report.js';
import { count, emptySummary, type ReportRecord } from '../../../src/report/report-record.js';

const HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

function record(overrides: Partial<ReportRecord>): ReportRecord {
  return {
    source: 'export.csv:2',
    externalId: 'cms-1',
    tenantCode: 'DEMO',
    userId: 'dXNlcjE=',
    credentialId: 'Y3JlZC0x',
    friendlyName: 'YubiKey',
    outcome: 'imported',
    httpStatus: 201,
    message: null,
    attempts: 1,
    warnings: [],
    sta: { state: 'pending', verified: 'present' },
    ...overrides,
  };
}

function input(records: readonly ReportRecord[], overrides: Partial<HtmlReportInput> = {}): HtmlReportInput {
  const summary = emptySummary();
  const groups = new FailureGroups();
  for (const item of records) {
    count(summary, item);
    groups.add(item);
  }
  return {
    runId: 'run-1',
    files: ['export.csv'],
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    generatedAt: '2026-01-01T00:02:00.000Z',
    summary,
    groups: groups.top(),
    rows: records.map(renderRecordRow),
    truncated: false,
    ...overrides,
  };
}

describe('renderHtmlReport', () => {
  const hostileRecords = [
    record({ friendlyName: HOSTILE, externalId: HOSTILE, warnings: [HOSTILE] }),
    record({ source: `${HOSTILE}:3`, outcome: 'failed', httpStatus: 400, message: HOSTILE, sta: { state: HOSTILE, verified: 'present' } }),
  ];
  const html = renderHtmlReport(input(hostileRecords, { files: [HOSTILE] }));

  it('escapes hostile text wherever a record value is shown', () => {
    expect(html).not.toContain('<script>window.pwned');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html.match(/<script/g)).toHaveLength(1); // the page's own search script
  });

  it('escapes quotes so that a value cannot leave its attribute', () => {
    expect(escapeHtml(`"'><&`)).toBe('&quot;&#39;&gt;&lt;&amp;');
    const page = renderHtmlReport(input([record({ outcome: 'failed', message: 'x" onmouseover="alert(1)' })]));
    expect(page).not.toContain('" onmouseover="');
  });

  it('forbids every network fetch with a content security policy and links nothing external', () => {
    expect(html).toContain(`content="default-src 'none';`);
    expect(html).not.toMatch(/<[a-z][^>]*\s(?:src|href)=/i);
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
  });

  it('shows every summary count on its own card', () => {
    const records = [
      record({}),
      record({}),
      record({ outcome: 'already-imported' }),
      record({ outcome: 'invalid', message: 'attestationObject is missing', sta: { state: null, verified: 'notChecked' } }),
      record({ outcome: 'pending' }),
    ];
    const page = renderHtmlReport(input(records));
    const cardValue = (key: string) => new RegExp(`data-key="${key}"><div class="n">(\\d+)</div>`).exec(page)?.[1];
    expect(cardValue('total')).toBe('5');
    expect(cardValue('imported')).toBe('2');
    expect(cardValue('already-imported')).toBe('1');
    expect(cardValue('invalid')).toBe('1');
    expect(cardValue('pending')).toBe('1');
    expect(cardValue('conflict')).toBe('0');
    expect(cardValue('verified-present')).toBe('4');
    expect(page).toContain('<svg role="img" aria-label="Outcome chart"');
    expect(page).not.toContain('imported-but-missing');
  });

  it('flags imported records missing in STA', () => {
    const page = renderHtmlReport(input([record({ sta: { state: null, verified: 'missing' } })]));
    expect(page).toMatch(/data-key="imported-but-missing"><div class="n">1</);
  });

  it('lists failures grouped by message with their count', () => {
    const page = renderHtmlReport(
      input([
        record({ outcome: 'failed', httpStatus: 404, message: 'The user userId ‘dXNlcjE=’ was not found.' }),
        record({ outcome: 'failed', httpStatus: 404, message: 'The user userId ‘dXNlcjI=’ was not found.' }),
      ]),
    );
    expect(page).toContain('<td>404</td><td>The user userId ‘…’ was not found.</td><td>2</td>');
  });

  it('says so when nothing failed', () => {
    expect(renderHtmlReport(input([record({})]))).toContain('No failed, invalid or conflicting records.');
  });

  it('says the table is partial when the run was too large to list', () => {
    const page = renderHtmlReport(input([record({ outcome: 'failed' })], { truncated: true }));
    expect(page).toContain('This page lists 1 of 1 records');
  });
});
