import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { ImportJobData } from '../queue/import-queue.js';
import type { RunOptions, RunStore } from '../run/run-store.js';
import type { ExportFile } from './export-file.js';
import { ingestFiles, type IngestEvent, type IngestOptions, type IngestTotals } from './ingest-pipeline.js';
import { RedisIngestSink, type BackpressureEvent } from './redis-ingest-sink.js';

export interface RunIngestDeps {
  readonly runStore: RunStore;
  readonly queue: Queue<ImportJobData>;
  readonly now: () => Date;
}

export interface RunIngestParams {
  readonly files: readonly ExportFile[];
  readonly ingest: IngestOptions;
  readonly runOptions: RunOptions;
  /** High-water mark of unfinished jobs of the run (backpressure). */
  readonly maxWaiting: number;
  readonly onEvent?: (event: IngestEvent) => void;
  readonly onBackpressure?: (event: BackpressureEvent) => void;
}

/** Another ingest is writing this run. */
export class IngestLockedError extends Error {
  readonly code = 'INGEST_LOCKED';

  constructor(runId: string) {
    super(`another ingest is writing run '${runId}'; wait for it to finish (or for its lock to expire, 60 s after it stopped)`);
    this.name = 'IngestLockedError';
  }
}

const LOCK_TTL_MS = 60_000;

/**
 * Ingests files into a run in Redis: creates the run, holds its ingest lock (one writer at a time,
 * so duplicate detection and checkpoints stay exact), streams every file through pre-flight into
 * the queue with backpressure, and marks the run's ingest done.
 *
 * @throws {IngestLockedError} when another process holds the run.
 */
export async function runIngest(deps: RunIngestDeps, params: RunIngestParams): Promise<IngestTotals> {
  const { runId } = params.ingest;
  const token = randomUUID();
  await deps.runStore.ensureRun(runId, params.runOptions, deps.now());
  if (!(await deps.runStore.acquireIngestLock(runId, token, LOCK_TTL_MS))) throw new IngestLockedError(runId);
  const keepAlive = setInterval(() => {
    void deps.runStore.extendIngestLock(runId, token, LOCK_TTL_MS).catch(() => undefined);
  }, LOCK_TTL_MS / 3);
  try {
    await deps.runStore.setIngestDone(runId, false, deps.now());
    await deps.runStore.clearFinished(runId);
    const sink = new RedisIngestSink(deps.runStore, deps.queue, {
      runId,
      maxWaiting: params.maxWaiting,
      now: deps.now,
      ...(params.ingest.signal ? { signal: params.ingest.signal } : {}),
      ...(params.onBackpressure ? { onBackpressure: params.onBackpressure } : {}),
    });
    // Batches of at most half the high-water mark: the next batch can go in while workers still
    // have the previous one, instead of the run draining completely between batches.
    const batchSize = Math.max(1, Math.min(params.ingest.batchSize, Math.floor(params.maxWaiting / 2)));
    const totals = await ingestFiles(params.files, { ...params.ingest, batchSize }, sink, params.onEvent);
    await deps.runStore.setIngestDone(runId, true, deps.now());
    return totals;
  } finally {
    clearInterval(keepAlive);
    await deps.runStore.releaseIngestLock(runId, token).catch(() => undefined);
  }
}
