/**
 * One input record as ingest saw it, stored in the run (in source order) so the report can list
 * every record without the export file. Attestation payloads are deliberately not kept here.
 */
export interface RecordEntry {
  /** `file:line` (CSV, NDJSON) or `file:#index` (JSON). */
  readonly source: string;
  readonly externalId: string | null;
  readonly tenantCode: string | null;
  readonly userId: string | null;
  readonly credentialId: string | null;
  readonly friendlyName: string | null;
  /** The CMS's lifecycle state of the credential, when the export has one. */
  readonly state: string | null;
  /** Decided at ingest: `pending` means it was enqueued as `jobId`. */
  readonly ingestOutcome: 'pending' | 'invalid' | 'duplicate';
  /** Why invalid / which record it duplicates. */
  readonly message: string | null;
  readonly warnings: readonly string[];
  readonly jobId: string | null;
}

type Compact = [string, string | null, string | null, string | null, string | null, string | null, string | null, 0 | 1 | 2, string | null, string[], string | null];
const OUTCOMES = ['pending', 'invalid', 'duplicate'] as const;

/** Positional JSON: a million entries cost ~30% less Redis memory than keyed objects. */
export function encodeRecordEntry(entry: RecordEntry): string {
  const compact: Compact = [
    entry.source,
    entry.externalId,
    entry.tenantCode,
    entry.userId,
    entry.credentialId,
    entry.friendlyName,
    entry.state,
    OUTCOMES.indexOf(entry.ingestOutcome) as 0 | 1 | 2,
    entry.message,
    [...entry.warnings],
    entry.jobId,
  ];
  return JSON.stringify(compact);
}

export function decodeRecordEntry(text: string): RecordEntry {
  const [source, externalId, tenantCode, userId, credentialId, friendlyName, state, outcome, message, warnings, jobId] = JSON.parse(text) as Compact;
  return {
    source,
    externalId,
    tenantCode,
    userId,
    credentialId,
    friendlyName,
    state,
    ingestOutcome: OUTCOMES[outcome],
    message,
    warnings,
    jobId,
  };
}
