import type { JobOutcome, Outcome } from '../run/outcome.js';
import type { RecordEntry } from '../run/record-entry.js';

/** What verification found for a record in STA. */
export type Verified = 'present' | 'missing' | 'notChecked';

/** One record of report.json, exactly as PRODUCT.md specifies. */
export interface ReportRecord {
  readonly source: string;
  readonly externalId: string | null;
  readonly tenantCode: string | null;
  readonly userId: string | null;
  readonly credentialId: string | null;
  readonly friendlyName: string | null;
  readonly outcome: Outcome;
  readonly httpStatus: number | null;
  readonly message: string | null;
  readonly attempts: number;
  readonly warnings: readonly string[];
  readonly sta: { readonly state: string | null; readonly verified: Verified };
}

export interface ReportSummary {
  total: number;
  imported: number;
  alreadyImported: number;
  conflict: number;
  failed: number;
  invalid: number;
  duplicate: number;
  pending: number;
  verified: {
    present: number;
    missing: number;
    notChecked: number;
    /** Red flags: `imported`/`already-imported` records that STA does not hold. */
    importedButMissing: number;
  };
}

/** What verification learnt about one record's credential on its user. */
export interface VerifyFinding {
  readonly verified: Verified;
  /** STA's state of the credential when present. */
  readonly state: string | null;
}

/**
 * Joins the three sides of a record: what ingest read, what the worker wrote, what STA holds.
 * Pure.
 */
export function toReportRecord(entry: RecordEntry, outcome: JobOutcome | null, finding: VerifyFinding | null, lostMessage: string | null = null): ReportRecord {
  // What STA holds now wins over what it answered at import time: a credential verified missing
  // has no state, even though the import said `pending`.
  const checked = finding !== null && finding.verified !== 'notChecked';
  const sta = { state: checked ? finding.state : (outcome?.staState ?? null), verified: finding?.verified ?? ('notChecked' as const) };
  // Keys in PRODUCT.md's order: report.json is read by people as well as scripts.
  const record = (outcomeName: Outcome, httpStatus: number | null, message: string | null, attempts: number): ReportRecord => ({
    source: entry.source,
    externalId: entry.externalId,
    tenantCode: entry.tenantCode,
    userId: entry.userId,
    credentialId: entry.credentialId,
    friendlyName: entry.friendlyName,
    outcome: outcomeName,
    httpStatus,
    message,
    attempts,
    warnings: entry.warnings,
    sta,
  });
  if (entry.ingestOutcome !== 'pending') return record(entry.ingestOutcome, null, entry.message, 0);
  if (!outcome) return record('pending', null, lostMessage, 0);
  return record(outcome.outcome, outcome.httpStatus, outcome.message, outcome.attempts);
}

/** A summary with every count at zero. */
export function emptySummary(): ReportSummary {
  return {
    total: 0,
    imported: 0,
    alreadyImported: 0,
    conflict: 0,
    failed: 0,
    invalid: 0,
    duplicate: 0,
    pending: 0,
    verified: { present: 0, missing: 0, notChecked: 0, importedButMissing: 0 },
  };
}

/** The summary's outcome counts in display order (successes first), for tables and charts. */
export function outcomeCounts(summary: ReportSummary): [Outcome, number][] {
  return [
    ['imported', summary.imported],
    ['already-imported', summary.alreadyImported],
    ['duplicate', summary.duplicate],
    ['conflict', summary.conflict],
    ['failed', summary.failed],
    ['invalid', summary.invalid],
    ['pending', summary.pending],
  ];
}

/** Adds a record to the summary. */
export function count(summary: ReportSummary, record: ReportRecord): void {
  summary.total += 1;
  switch (record.outcome) {
    case 'imported':
      summary.imported += 1;
      break;
    case 'already-imported':
      summary.alreadyImported += 1;
      break;
    case 'conflict':
      summary.conflict += 1;
      break;
    case 'failed':
      summary.failed += 1;
      break;
    case 'invalid':
      summary.invalid += 1;
      break;
    case 'duplicate':
      summary.duplicate += 1;
      break;
    case 'pending':
      summary.pending += 1;
      break;
  }
  summary.verified[record.sta.verified] += 1;
  if (isRedFlag(record)) summary.verified.importedButMissing += 1;
}

/** Reported as imported but STA does not hold it: an auditor's first question. */
export function isRedFlag(record: ReportRecord): boolean {
  return (record.outcome === 'imported' || record.outcome === 'already-imported') && record.sta.verified === 'missing';
}

/** Exit code of a run or report: 0 all good, 1 anything to look at. */
export function exitCodeFor(summary: ReportSummary): 0 | 1 {
  const problems = summary.failed + summary.invalid + summary.conflict + summary.pending + summary.verified.importedButMissing;
  return problems === 0 ? 0 : 1;
}
