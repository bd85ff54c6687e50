/**
 * Real Redis for ingest tests: a fresh prefix, a RunStore and the import queue on it, `runIngest`
 * with test-sized defaults, and readers for what a run holds. `close()` deletes the prefix and
 * closes every connection.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { inspectExportFile, type ExportFile } from '../../../src/ingest/export-file.js';
import type { IngestEvent, IngestOptions, IngestTotals } from '../../../src/ingest/ingest-pipeline.js';
import type { PreflightOptions } from '../../../src/ingest/preflight.js';
import type { BackpressureEvent } from '../../../src/ingest/redis-ingest-sink.js';
import { runIngest } from '../../../src/ingest/run-ingest.js';
import { createImportQueue, type ImportJobData } from '../../../src/queue/import-queue.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';
import { RunStore } from '../../../src/run/run-store.js';
import type { FieldMap } from '../../../src/ingest/fields.js';
import { connectRedis, deletePrefix, freshPrefix } from '../../helpers/redis.js';

/** The committed exports' relying party and the tenant records without tenantCode get. */
export const RP_ID = 'login.example.com';
export const TENANT = 'ACME';

export const PREFLIGHT: PreflightOptions = { rpId: RP_ID, strict: false, defaultTenant: TENANT, objectIdFormat: 'base64' };

export interface IngestCall {
  readonly runId: string;
  readonly map?: FieldMap;
  readonly batchSize?: number;
  readonly maxWaiting?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: IngestEvent) => void;
  readonly onBackpressure?: (event: BackpressureEvent) => void;
}

export class IngestHarness {
  readonly prefix = freshPrefix('ingest');
  readonly redis: Redis = connectRedis();
  readonly store = new RunStore(this.redis, this.prefix);
  readonly queue: Queue<ImportJobData> = createImportQueue(this.redis, this.prefix);

  /** Inspects the files (as the CLI does) and ingests them into `call.runId`. */
  async ingest(paths: readonly string[], call: IngestCall): Promise<IngestTotals> {
    const map = call.map ?? {};
    const files: ExportFile[] = [];
    for (const path of paths) files.push(await inspectExportFile(path, { map }));
    return runIngest(
      { runStore: this.store, queue: this.queue, now: () => new Date() },
      {
        files,
        ingest: this.ingestOptions(call),
        runOptions: { ...PREFLIGHT, map },
        maxWaiting: call.maxWaiting ?? 50_000,
        ...(call.onEvent ? { onEvent: call.onEvent } : {}),
        ...(call.onBackpressure ? { onBackpressure: call.onBackpressure } : {}),
      },
    );
  }

  ingestOptions(call: IngestCall): IngestOptions {
    return { runId: call.runId, preflight: PREFLIGHT, map: call.map ?? {}, batchSize: call.batchSize ?? 500, ...(call.signal ? { signal: call.signal } : {}) };
  }

  async records(runId: string): Promise<RecordEntry[]> {
    return this.store.getRecords(runId, 0, 1_000_000);
  }

  /** Ids of every job in the queue, whatever its state, sorted. */
  async jobIds(): Promise<string[]> {
    const jobs = await this.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'], 0, -1);
    return jobs.map((job) => job.id ?? '').sort();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await deletePrefix(this.redis, this.prefix);
    await this.redis.quit();
  }
}

/** Runs of `entries` grouped as `[source, outcome]` pairs: the shape most assertions compare. */
export function outcomesOf(entries: readonly RecordEntry[]): [string, string][] {
  return entries.map((entry) => [entry.source, entry.ingestOutcome]);
}
