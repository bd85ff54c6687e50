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

/** The run exists and was ingested with other options: mixing them would make its records disagree. */
export class IngestOptionsMismatchError extends Error {
  readonly code = 'INGEST_OPTIONS_MISMATCH';

  constructor(runId: string, differences: readonly string[]) {
    super(`run '${runId}' was ingested with other options (${differences.join('; ')}); use the same options to continue it, or a new --run`);
    this.name = 'IngestOptionsMismatchError';
  }
}

const LOCK_TTL_MS = 60_000;

const OPTION_NAMES: Readonly<Record<keyof RunOptions, string>> = {
  rpId: '--rp-id',
  strict: '--strict',
  defaultTenant: 'STA_TENANT',
  objectIdFormat: 'STA_OBJECT_ID_FORMAT',
  map: '--map',
};

/** What differs between the options a run was created with and these, named as the user sets them. */
export function optionDifferences(stored: RunOptions, given: RunOptions): string[] {
  return (Object.keys(OPTION_NAMES) as (keyof RunOptions)[])
    .filter((key) => canonicalJson(stored[key]) !== canonicalJson(given[key]))
    .map((key) => `${OPTION_NAMES[key]} was ${canonicalJson(stored[key])}, now ${canonicalJson(given[key])}`);
}

function canonicalJson(value: unknown): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Ingests files into a run in Redis: creates the run, holds its ingest lock (one writer at a time,
 * so duplicate detection and checkpoints stay exact), streams every file through pre-flight into
 * the queue with backpressure, and marks the run's ingest done.
 *
 * @throws {IngestLockedError} when another process holds the run.
 * @throws {IngestOptionsMismatchError} when the run exists with other pre-flight options.
 */
export async function runIngest(deps: RunIngestDeps, params: RunIngestParams): Promise<IngestTotals> {
  const { runId } = params.ingest;
  const token = randomUUID();
  const { existed } = await deps.runStore.ensureRun(runId, params.runOptions, deps.now());
  if (existed) {
    const stored = (await deps.runStore.getManifest(runId))?.options;
    const differences = stored ? optionDifferences(stored, params.runOptions) : [];
    if (differences.length > 0) throw new IngestOptionsMismatchError(runId, differences);
  }
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
