import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderExport } from '../../../fixtures/export-writer.js';
import type { ExportRecord } from '../../../fixtures/export-record.js';
import { makeRegistration } from '../../../fixtures/software-authenticator.js';
import { dryRunIngest } from '../../../src/ingest/dry-run.js';
import { inspectExportFile } from '../../../src/ingest/export-file.js';
import { ReportFiles } from '../../../src/report/report-files.js';

const USER_A = 'fJLU3VOz8zAiJeCwr/dF+g==';
const USER_B = '5E3mAHfxQz10pEd6chqb+g==';

function record(externalId: string, userId: string, registration = makeRegistration({ format: 'none' })): ExportRecord {
  return { userId, attestationObject: registration.attestationObject, clientDataJson: registration.clientDataJson, friendlyName: externalId, externalId };
}

describe('dry run', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dry-run-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the first holder of a repeated credential, by line in CSV and by index in JSON, across files', async () => {
    const shared = makeRegistration({ format: 'none' });
    const other = makeRegistration({ format: 'none' });
    const csvPath = join(dir, 'first.csv');
    const jsonPath = join(dir, 'second.json');
    await writeFile(csvPath, renderExport([record('c1', USER_A), record('c2', USER_A, shared), record('c3', USER_B, shared)], { format: 'csv' }));
    await writeFile(jsonPath, renderExport([record('j0', USER_B, other), record('j1', USER_A, shared), record('j2', USER_B, other)], { format: 'json' }));
    const files = [await inspectExportFile(csvPath, { map: {} }), await inspectExportFile(jsonPath, { map: {} })];
    const report = await ReportFiles.open(dir, { runId: 'dry', files: files.map((file) => file.label), startedAt: null, finishedAt: null });
    const preflight = { rpId: null, strict: false, defaultTenant: 'ACME', objectIdFormat: 'base64' as const };
    const { totals } = await dryRunIngest(files, { runId: 'dry', preflight, map: {}, batchSize: 2 }, report);
    expect(totals).toMatchObject({ read: 6, valid: 3, duplicate: 3, invalid: 0 });

    const written = JSON.parse(await readFile(join(dir, 'dry', 'report.json'), 'utf8')) as {
      finishedAt: string | null;
      records: { source: string; outcome: string; message: string | null }[];
    };
    expect(written.finishedAt).not.toBeNull();
    expect(written.records.map((r) => [r.source, r.outcome, r.message])).toEqual([
      [`${csvPath}:2`, 'pending', null],
      [`${csvPath}:3`, 'pending', null],
      [`${csvPath}:4`, 'duplicate', `same credential as ${csvPath}:3; only the first is imported`],
      [`${jsonPath}:#0`, 'pending', null],
      [`${jsonPath}:#1`, 'duplicate', `same credential as ${csvPath}:3; only the first is imported`],
      [`${jsonPath}:#2`, 'duplicate', `same credential as ${jsonPath}:#0; only the first is imported`],
    ]);
  });
});
