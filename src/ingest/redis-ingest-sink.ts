import type { Queue } from 'bullmq';
import { IMPORT_JOB_NAME, IMPORT_JOB_OPTIONS, type ImportJobData } from '../queue/import-queue.js';
import type { RecordEntry } from '../run/record-entry.js';
import type { Claim, FileProgress, RunStore } from '../run/run-store.js';
import type { ExportFile } from './export-file.js';
import { IngestAbortedError, type EnqueueJob, type IngestSink } from './ingest-pipeline.js';

export interface BackpressureEvent {
  readonly kind: 'paused' | 'resumed';
  /** Jobs of the run not finished yet. */
  readonly outstanding: number;
  readonly highWaterMark: number;
}

export interface RedisIngestSinkOptions {
  readonly runId: string;
  /** Ingest waits while more than this many jobs of the run are unfinished. */
  readonly maxWaiting: number;
  readonly pollMs?: number;
  readonly onBackpressure?: (event: BackpressureEvent) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  /** Ends a backpressure wait (the run is being stopped). */
  readonly signal?: AbortSignal;
}

/**
 * The real-run sink: claims in the run's Redis hash, jobs into BullMQ with `addBulk`, records and
 * checkpoints into the run's list. Before each batch it waits until the run's unfinished jobs
 * leave room for it, so Redis holds at most `maxWaiting` attestation payloads whatever the export
 * size.
 */
export class RedisIngestSink implements IngestSink {
  readonly #store: RunStore;
  readonly #queue: Queue<ImportJobData>;
  readonly #options: RedisIngestSinkOptions;
  readonly #progress = new Map<string, FileProgress>();

  constructor(store: RunStore, queue: Queue<ImportJobData>, options: RedisIngestSinkOptions) {
    this.#store = store;
    this.#queue = queue;
    this.#options = options;
  }

  async beginFile(file: ExportFile): Promise<{ done: boolean; committed: number }> {
    const now = this.#now();
    const existing = await this.#store.getFile(this.#options.runId, file.sha256);
    if (existing?.done) return { done: true, committed: existing.recordsCommitted };
    const progress: FileProgress = existing ?? {
      name: file.label,
      path: file.path,
      sha256: file.sha256,
      format: file.format,
      bytes: file.bytes,
      recordsCommitted: 0,
      done: false,
      startedAt: now.toISOString(),
      finishedAt: null,
    };
    await this.#store.startFile(this.#options.runId, progress);
    this.#progress.set(file.sha256, progress);
    return { done: false, committed: progress.recordsCommitted };
  }

  claim(claims: readonly Claim[]): Promise<(string | null)[]> {
    return this.#store.claim(this.#options.runId, claims);
  }

  async enqueue(jobs: readonly EnqueueJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#waitForRoom(jobs.length);
    await this.#queue.addBulk(jobs.map((job) => ({ name: IMPORT_JOB_NAME, data: job.data, opts: { ...IMPORT_JOB_OPTIONS, jobId: job.jobId } })));
  }

  async commit(file: ExportFile, entries: readonly RecordEntry[], committed: number, done: boolean): Promise<void> {
    const now = this.#now();
    const previous = this.#progress.get(file.sha256);
    if (!previous) throw new Error(`commit before beginFile for ${file.path}`);
    const progress: FileProgress = { ...previous, recordsCommitted: committed, done, finishedAt: done ? now.toISOString() : null };
    this.#progress.set(file.sha256, progress);
    await this.#store.commitBatch(this.#options.runId, progress, entries, now);
  }

  async #waitForRoom(incoming: number): Promise<void> {
    const { maxWaiting, runId } = this.#options;
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    let paused = false;
    for (;;) {
      if (this.#options.signal?.aborted) throw new IngestAbortedError(runId);
      const counts = await this.#store.getCounts(runId);
      // Always let one batch through an empty run, even if it alone is bigger than the mark.
      if (counts.pending === 0 || counts.pending + incoming <= maxWaiting) break;
      if (!paused) {
        paused = true;
        this.#options.onBackpressure?.({ kind: 'paused', outstanding: counts.pending, highWaterMark: maxWaiting });
      }
      await sleep(this.#options.pollMs ?? 200);
    }
    if (paused) {
      const counts = await this.#store.getCounts(runId);
      this.#options.onBackpressure?.({ kind: 'resumed', outstanding: counts.pending, highWaterMark: maxWaiting });
    }
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }
}
