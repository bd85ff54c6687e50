import { importJobId, type ImportJobData } from '../queue/import-queue.js';
import type { RecordEntry } from '../run/record-entry.js';
import type { Claim } from '../run/run-store.js';
import type { ExportFile } from './export-file.js';
import { canonicalFields, resolveFieldNames, type FieldMap, type RecordField } from './fields.js';
import { preflight, type PreflightOptions } from './preflight.js';
import { readExport } from './read-export.js';
import type { RawRecord } from './readers/raw-record.js';

/** A job to enqueue: its id and payload. */
export interface EnqueueJob {
  readonly jobId: string;
  readonly data: ImportJobData;
}

/**
 * Where ingest puts its results: Redis and the queue for a real run, memory and a report for a
 * dry run. The pipeline calls, per batch: claim → enqueue → commit, so that a crash leaves every
 * committed record enqueued, and an interrupted ingest resumes after its last commit.
 */
export interface IngestSink {
  /** How far an earlier ingest of this same file (by content hash) got. */
  beginFile(file: ExportFile): Promise<{ readonly done: boolean; readonly committed: number }>;
  /** Duplicate detection over the whole run: null = this record holds the credential, else the first holder's source. */
  claim(claims: readonly Claim[]): Promise<(string | null)[]>;
  enqueue(jobs: readonly EnqueueJob[]): Promise<void>;
  /** Stores a batch of records and the file's checkpoint (`committed` records read, `done` at end of file). */
  commit(file: ExportFile, entries: readonly RecordEntry[], committed: number, done: boolean): Promise<void>;
}

export interface IngestOptions {
  readonly runId: string;
  readonly preflight: PreflightOptions;
  readonly map: FieldMap;
  /** Records per claim/enqueue/commit round trip. */
  readonly batchSize: number;
  /** Stops between batches (everything committed so far stays; the next ingest resumes after it). */
  readonly signal?: AbortSignal;
}

/** Ingest stopped by its signal; what was committed stays and a re-run resumes after it. */
export class IngestAbortedError extends Error {
  readonly code = 'INGEST_ABORTED';

  constructor(runId: string) {
    super(`ingest was interrupted; run the same command with --run ${runId} to resume where it stopped`);
    this.name = 'IngestAbortedError';
  }
}

export interface IngestTotals {
  read: number;
  valid: number;
  invalid: number;
  duplicate: number;
  /** Files skipped because this run already ingested the same content completely. */
  readonly skippedFiles: string[];
  /** Records skipped because an earlier, interrupted ingest of the run had committed them. */
  resumedAfter: number;
}

export type IngestEvent =
  | { readonly kind: 'file-start'; readonly file: ExportFile; readonly resumeAt: number }
  | { readonly kind: 'file-skipped'; readonly file: ExportFile }
  | { readonly kind: 'batch'; readonly file: ExportFile; readonly totals: Readonly<IngestTotals> }
  | { readonly kind: 'file-done'; readonly file: ExportFile; readonly records: number };

/**
 * Reads every file, pre-flights every record, detects duplicates, and hands batches to the sink.
 * Every record read produces exactly one RecordEntry, in source order.
 */
export async function ingestFiles(
  files: readonly ExportFile[],
  options: IngestOptions,
  sink: IngestSink,
  onEvent: (event: IngestEvent) => void = () => undefined,
): Promise<IngestTotals> {
  const totals: IngestTotals = { read: 0, valid: 0, invalid: 0, duplicate: 0, skippedFiles: [], resumedAfter: 0 };
  const resolveCache = new Map<string, Partial<Record<RecordField, string>>>();
  const resolve = (fields: Readonly<Record<string, unknown>>) => {
    const names = Object.keys(fields);
    const signature = names.join('\u0001');
    let resolved = resolveCache.get(signature);
    if (!resolved) {
      resolved = resolveFieldNames(names, options.map);
      if (resolveCache.size > 1000) resolveCache.clear();
      resolveCache.set(signature, resolved);
    }
    return resolved;
  };

  for (const file of files) {
    const start = await sink.beginFile(file);
    if (start.done) {
      totals.skippedFiles.push(file.path);
      onEvent({ kind: 'file-skipped', file });
      continue;
    }
    onEvent({ kind: 'file-start', file, resumeAt: start.committed });
    totals.resumedAfter += start.committed;
    let committed = start.committed;
    let batch: RawRecord[] = [];
    // Pre-flight (CPU) of the next batch runs while the previous batch's claim/enqueue/commit
    // (Redis round trips) are in flight; the stores themselves stay strictly in order.
    let storing: Promise<void> = Promise.resolve();
    const flush = async (done: boolean) => {
      const prepared = prepareBatch(batch, file, options, resolve, totals);
      committed += batch.length;
      const checkpoint = committed;
      batch = [];
      // The claim goes out now, behind the previous batch's claim on the same connection (claims
      // stay in source order) and alongside its enqueue; a crash in between leaves only own claims.
      const holders = sink.claim(prepared.claims);
      holders.catch(() => undefined); // observed below, after the previous batch
      await storing;
      storing = storeBatch(prepared, holders, sink, totals).then(async (entries) => {
        await sink.commit(file, entries, checkpoint, done);
        onEvent({ kind: 'batch', file, totals });
      });
    };
    try {
      for await (const raw of readExport(file)) {
        if (raw.index < start.committed) continue;
        batch.push(raw);
        if (batch.length >= options.batchSize) {
          await flush(false);
          if (options.signal?.aborted) {
            await storing;
            throw new IngestAbortedError(options.runId);
          }
        }
      }
      await flush(true);
    } finally {
      // Never leave a store running unobserved (its error would be lost, its commit half-known).
      await storing;
    }
    onEvent({ kind: 'file-done', file, records: committed });
  }
  return totals;
}

/** A batch after pre-flight: entries in source order (null where a claim decides), claims, jobs. */
interface PreparedBatch {
  readonly entries: (RecordEntry | null)[];
  readonly claims: Claim[];
  readonly pending: { slot: number; entry: RecordEntry; job: EnqueueJob }[];
}

/** Pre-flights a batch. Synchronous and pure apart from the counters. */
function prepareBatch(
  batch: readonly RawRecord[],
  file: ExportFile,
  options: IngestOptions,
  resolve: (fields: Readonly<Record<string, unknown>>) => Partial<Record<RecordField, string>>,
  totals: IngestTotals,
): PreparedBatch {
  const entries: (RecordEntry | null)[] = [];
  const claims: Claim[] = [];
  const pending: PreparedBatch['pending'] = [];

  for (const raw of batch) {
    totals.read += 1;
    if (!raw.ok) {
      entries.push(invalidEntry(raw.source, raw.reason, null));
      totals.invalid += 1;
      continue;
    }
    const result = preflight(canonicalFields(raw.fields, resolve(raw.fields)), options.preflight);
    if (!result.ok) {
      entries.push(invalidEntry(raw.source, result.reason, result.partial, result.warnings));
      totals.invalid += 1;
      continue;
    }
    const record = result.record;
    const jobId = importJobId(options.runId, record.tenantCode, record.userId, record.credentialId);
    claims.push({ key: `${record.tenantCode}\u0000${record.credentialId}`, id: `${file.sha256.slice(0, 16)}:${raw.index}`, source: raw.source });
    pending.push({
      slot: entries.length,
      entry: {
        source: raw.source,
        externalId: record.externalId,
        tenantCode: record.tenantCode,
        userId: record.userId,
        credentialId: record.credentialId,
        friendlyName: record.friendlyName,
        state: record.state,
        ingestOutcome: 'pending',
        message: null,
        warnings: result.warnings,
        jobId,
      },
      job: {
        jobId,
        data: {
          runId: options.runId,
          source: raw.source,
          tenantCode: record.tenantCode,
          userId: record.userId,
          credentialId: record.credentialId,
          friendlyName: record.friendlyName,
          attestationObject: record.attestationObject,
          clientDataJson: record.clientDataJson,
        },
      },
    });
    entries.push(null);
  }
  return { entries, claims, pending };
}

/** With the batch's claims answered, enqueues the records that hold theirs; returns every entry. */
async function storeBatch(batch: PreparedBatch, claimed: Promise<(string | null)[]>, sink: IngestSink, totals: IngestTotals): Promise<RecordEntry[]> {
  const holders = await claimed;
  const jobs: EnqueueJob[] = [];
  const entries = [...batch.entries];
  batch.pending.forEach((pending, i) => {
    const holder = holders[i] ?? null;
    if (holder === null) {
      entries[pending.slot] = pending.entry;
      jobs.push(pending.job);
      totals.valid += 1;
    } else {
      entries[pending.slot] = {
        ...pending.entry,
        ingestOutcome: 'duplicate',
        message: `same credential as ${holder}; only the first is imported`,
        jobId: null,
      };
      totals.duplicate += 1;
    }
  });
  await sink.enqueue(jobs);
  return entries.filter((entry): entry is RecordEntry => entry !== null);
}

function invalidEntry(
  source: string,
  reason: string,
  partial: { tenantCode: string | null; userId: string | null; credentialId: string | null; friendlyName: string | null; externalId: string | null; state: string | null } | null,
  warnings: readonly string[] = [],
): RecordEntry {
  return {
    source,
    externalId: partial?.externalId ?? null,
    tenantCode: partial?.tenantCode ?? null,
    userId: partial?.userId ?? null,
    credentialId: partial?.credentialId ?? null,
    friendlyName: partial?.friendlyName ?? null,
    state: partial?.state ?? null,
    ingestOutcome: 'invalid',
    message: reason,
    warnings,
    jobId: null,
  };
}
