import { describe, expect, it } from 'vitest';
import {
  count,
  emptySummary,
  exitCodeFor,
  isRedFlag,
  toReportRecord,
  type ReportRecord,
  type VerifyFinding,
} from '../../../src/report/report-record.js';
import type { JobOutcome, JobOutcomeName } from '../../../src/run/outcome.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';

function entry(overrides: Partial<RecordEntry> = {}): RecordEntry {
  return {
    source: 'export.csv:12',
    externalId: 'cms-000012',
    tenantCode: 'DEMO',
    userId: 'dXNlcjE=',
    credentialId: 'Y3JlZC0x',
    friendlyName: 'YubiKey',
    state: null,
    ingestOutcome: 'pending',
    message: null,
    warnings: [],
    jobId: 'run-1.abc',
    ...overrides,
  };
}

function jobOutcome(outcome: JobOutcomeName, overrides: Partial<JobOutcome> = {}): JobOutcome {
  return {
    outcome,
    httpStatus: outcome === 'failed' ? 404 : outcome === 'imported' ? 201 : 409,
    message: outcome === 'failed' ? 'The user userId ‘dXNlcjE=’ was not found.' : null,
    attempts: 2,
    staId: 'Y3JlZC0x',
    staState: outcome === 'imported' ? 'pending' : null,
    at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const present: VerifyFinding = { verified: 'present', state: 'active' };
const missing: VerifyFinding = { verified: 'missing', state: null };
const notChecked: VerifyFinding = { verified: 'notChecked', state: null };

describe('toReportRecord', () => {
  it('copies what ingest read, and only that, into the record (no attestation payloads)', () => {
    const record = toReportRecord(entry({ warnings: ['clientDataJson was standard base64 (+ /); sent as base64url'] }), jobOutcome('imported'), null);
    expect(Object.keys(record)).toEqual([
      'source',
      'externalId',
      'tenantCode',
      'userId',
      'credentialId',
      'friendlyName',
      'outcome',
      'httpStatus',
      'message',
      'attempts',
      'warnings',
      'sta',
    ]);
    expect(record).toMatchObject({
      source: 'export.csv:12',
      externalId: 'cms-000012',
      tenantCode: 'DEMO',
      userId: 'dXNlcjE=',
      credentialId: 'Y3JlZC0x',
      friendlyName: 'YubiKey',
      warnings: ['clientDataJson was standard base64 (+ /); sent as base64url'],
    });
    expect(Object.keys(record.sta)).toEqual(['state', 'verified']);
  });

  it.each(['imported', 'already-imported', 'conflict', 'failed'] as const)('takes a %s outcome, status, message and attempts from the ledger', (name) => {
    const outcome = jobOutcome(name);
    const record = toReportRecord(entry(), outcome, null);
    expect(record).toMatchObject({ outcome: name, httpStatus: outcome.httpStatus, message: outcome.message, attempts: 2 });
  });

  it('reports an invalid record with the pre-flight reason and no STA status', () => {
    const record = toReportRecord(entry({ ingestOutcome: 'invalid', credentialId: null, jobId: null, message: 'attestationObject is missing' }), null, null);
    expect(record).toMatchObject({ outcome: 'invalid', httpStatus: null, message: 'attestationObject is missing', attempts: 0, sta: { state: null, verified: 'notChecked' } });
  });

  it('reports a duplicate with the source of the first record holding the credential', () => {
    const record = toReportRecord(entry({ ingestOutcome: 'duplicate', jobId: null, message: 'same credential as export.csv:3' }), null, present);
    expect(record).toMatchObject({ outcome: 'duplicate', httpStatus: null, message: 'same credential as export.csv:3', attempts: 0, sta: present });
  });

  it('ignores a ledger outcome for a record that ingest already decided', () => {
    const record = toReportRecord(entry({ ingestOutcome: 'duplicate', message: 'same credential as export.csv:3' }), jobOutcome('imported'), null);
    expect(record.outcome).toBe('duplicate');
  });

  it('reports an enqueued record without an outcome as pending, with the lost-job message when given', () => {
    expect(toReportRecord(entry(), null, null)).toMatchObject({ outcome: 'pending', httpStatus: null, message: null, attempts: 0 });
    expect(toReportRecord(entry(), null, null, 'no job in the queue').message).toBe('no job in the queue');
  });

  it("takes STA's state at import time when nothing was verified", () => {
    expect(toReportRecord(entry(), jobOutcome('imported'), null).sta).toEqual({ state: 'pending', verified: 'notChecked' });
  });

  it("takes STA's live state when verified present", () => {
    expect(toReportRecord(entry(), jobOutcome('imported'), present).sta).toEqual({ state: 'active', verified: 'present' });
  });

  it('drops the import-time state of a credential verified missing', () => {
    expect(toReportRecord(entry(), jobOutcome('imported'), missing).sta).toEqual({ state: null, verified: 'missing' });
  });

  it('keeps the import-time state when the user could not be listed', () => {
    expect(toReportRecord(entry(), jobOutcome('imported'), notChecked).sta).toEqual({ state: 'pending', verified: 'notChecked' });
  });
});

function record(outcome: ReportRecord['outcome'], verified: VerifyFinding['verified'] = 'notChecked'): ReportRecord {
  return {
    source: 'x.csv:2',
    externalId: null,
    tenantCode: 'DEMO',
    userId: 'dXNlcjE=',
    credentialId: 'Y3JlZC0x',
    friendlyName: null,
    outcome,
    httpStatus: null,
    message: null,
    attempts: 0,
    warnings: [],
    sta: { state: null, verified },
  };
}

describe('summary counting', () => {
  it('counts every record once under its outcome and its verification', () => {
    const summary = emptySummary();
    const outcomes = ['imported', 'imported', 'already-imported', 'conflict', 'failed', 'invalid', 'duplicate', 'pending'] as const;
    for (const outcome of outcomes) count(summary, record(outcome, outcome === 'invalid' ? 'notChecked' : 'present'));
    count(summary, record('imported', 'missing'));
    expect(summary).toEqual({
      total: 9,
      imported: 3,
      alreadyImported: 1,
      conflict: 1,
      failed: 1,
      invalid: 1,
      duplicate: 1,
      pending: 1,
      verified: { present: 7, missing: 1, notChecked: 1, importedButMissing: 1 },
    });
  });

  it('raises a red flag only for imported or already-imported records that STA does not hold', () => {
    expect(isRedFlag(record('imported', 'missing'))).toBe(true);
    expect(isRedFlag(record('already-imported', 'missing'))).toBe(true);
    expect(isRedFlag(record('duplicate', 'missing'))).toBe(false);
    expect(isRedFlag(record('failed', 'missing'))).toBe(false);
    expect(isRedFlag(record('conflict', 'missing'))).toBe(false);
    expect(isRedFlag(record('imported', 'present'))).toBe(false);
    expect(isRedFlag(record('imported', 'notChecked'))).toBe(false);
  });
});

describe('exitCodeFor', () => {
  const summaryOf = (...records: ReportRecord[]) => {
    const summary = emptySummary();
    for (const item of records) count(summary, item);
    return summary;
  };

  it('is 0 when every record is imported, already imported or a duplicate', () => {
    expect(exitCodeFor(summaryOf(record('imported', 'present'), record('already-imported'), record('duplicate')))).toBe(0);
    expect(exitCodeFor(emptySummary())).toBe(0);
  });

  it.each(['failed', 'invalid', 'conflict', 'pending'] as const)('is 1 when a record is %s', (outcome) => {
    expect(exitCodeFor(summaryOf(record('imported'), record(outcome)))).toBe(1);
  });

  it('is 1 when an imported record is missing in STA', () => {
    expect(exitCodeFor(summaryOf(record('imported', 'present'), record('imported', 'missing')))).toBe(1);
  });

  it('is 0 when only a duplicate is verified missing (its first record decides)', () => {
    expect(exitCodeFor(summaryOf(record('imported', 'present'), record('duplicate', 'missing')))).toBe(0);
  });
});
