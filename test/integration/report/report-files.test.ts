import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HTML_ROW_LIMIT, ReportFiles } from '../../../src/report/report-files.js';
import type { ReportRecord } from '../../../src/report/report-record.js';
import { parseReport } from './report-schema.js';

function record(index: number, overrides: Partial<ReportRecord> = {}): ReportRecord {
  return {
    source: `big.csv:${index + 2}`,
    externalId: `cms-${index}`,
    tenantCode: 'DEMO',
    userId: 'dXNlcjE=',
    credentialId: `Y3JlZC${index}`,
    friendlyName: null,
    outcome: 'imported',
    httpStatus: 200,
    message: null,
    attempts: 1,
    warnings: [],
    sta: { state: 'pending', verified: 'present' },
    ...overrides,
  };
}

const HEADER = { runId: 'run-files', files: ['big.csv'], startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null };

describe('ReportFiles', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sta-report-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps problem rows and red flags on the HTML page when a run has more rows than it lists', async () => {
    const files = await ReportFiles.open(dir, HEADER);
    const total = HTML_ROW_LIMIT + 500;
    const redFlag = 5;
    const failed = HTML_ROW_LIMIT + 100;
    for (let i = 0; i < total; i += 1) {
      if (i === redFlag) await files.write(record(i, { sta: { state: null, verified: 'missing' } }));
      else if (i === failed) await files.write(record(i, { outcome: 'failed', httpStatus: 500, message: 'Internal Server Error. (after 6 attempts)' }));
      else await files.write(record(i));
    }
    const written = await files.finish(new Date('2026-01-01T00:05:00.000Z'));
    const html = await readFile(written.paths.html, 'utf8');
    const rows = html.match(/<tr data-outcome=/g) ?? [];
    expect(rows).toHaveLength(2);
    expect(html).toContain(`<td>big.csv:${redFlag + 2}</td>`);
    expect(html).toContain(`<td>big.csv:${failed + 2}</td>`);
    expect(html).toContain(`This page lists 2 of ${total} records`);

    const report = parseReport(await readFile(written.paths.json, 'utf8'));
    expect(report.records).toHaveLength(total);
    expect(report.summary).toMatchObject({ total, imported: total - 1, failed: 1, verified: { present: total - 1, missing: 1, importedButMissing: 1 } });
    const csvLines = (await readFile(written.paths.csv, 'utf8')).split('\r\n').filter((line) => line !== '');
    expect(csvLines).toHaveLength(total + 1);
  });

  it('lists every row when the run fits on the page', async () => {
    const files = await ReportFiles.open(dir, HEADER);
    for (let i = 0; i < 10; i += 1) await files.write(record(i));
    const written = await files.finish(new Date());
    const html = await readFile(written.paths.html, 'utf8');
    expect(html.match(/<tr data-outcome=/g)).toHaveLength(10);
    expect(html).not.toContain('This page lists');
  });

  it('writes a valid, empty report for a run without records', async () => {
    const files = await ReportFiles.open(dir, HEADER);
    const written = await files.finish(new Date());
    const report = parseReport(await readFile(written.paths.json, 'utf8'));
    expect(report.records).toEqual([]);
    expect(report.summary.total).toBe(0);
    expect(await readFile(written.paths.csv, 'utf8')).toBe('source,externalId,tenantCode,userId,credentialId,friendlyName,outcome,httpStatus,message,attempts,warnings,staState,verified\r\n');
  });

  it('renames finished files into place with mode 0600 and leaves no partial files', async () => {
    const files = await ReportFiles.open(dir, HEADER);
    await files.write(record(0));
    const written = await files.finish(new Date());
    expect((await readdir(written.paths.dir)).sort()).toEqual(['report.csv', 'report.html', 'report.json']);
    for (const path of [written.paths.json, written.paths.csv, written.paths.html]) expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(written.paths.dir)).mode & 0o777).toBe(0o700);
  });

  it('removes partial files when aborted, keeping an earlier complete report', async () => {
    const earlier = await ReportFiles.open(dir, HEADER);
    await earlier.write(record(0));
    const kept = await earlier.finish(new Date());
    const before = await readFile(kept.paths.json, 'utf8');

    const files = await ReportFiles.open(dir, HEADER);
    await files.write(record(1));
    await files.abort();
    expect((await readdir(kept.paths.dir)).sort()).toEqual(['report.csv', 'report.html', 'report.json']);
    expect(await readFile(kept.paths.json, 'utf8')).toBe(before);
  });
});
