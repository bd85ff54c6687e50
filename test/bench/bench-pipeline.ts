/**
 * The production pipeline, composed for benchmarks the way src/cli/runtime.ts and run-flow.ts
 * compose it (queue, run store, global rate limiter, paced STA client, import worker), plus
 * generated export files and the ingest call — so the figures are those of `sta-migrate run`.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { generateRecords, writeExport, type GeneratedRecord, type GenerateOptions } from '../../fixtures/export-generator.js';
import { INGEST_BATCH_SIZE } from '../../src/cli/shared-options.js';
import { Secret } from '../../src/config/secret.js';
import { inspectExportFile, type ExportFile } from '../../src/ingest/export-file.js';
import type { IngestOptions, IngestTotals } from '../../src/ingest/ingest-pipeline.js';
import { runIngest } from '../../src/ingest/run-ingest.js';
import { GlobalRateLimiter } from '../../src/queue/global-rate-limiter.js';
import { createImportQueue, type ImportJobData } from '../../src/queue/import-queue.js';
import { createRedis } from '../../src/redis/connection.js';
import type { JobOutcomeName } from '../../src/run/outcome.js';
import { limiterKey } from '../../src/run/run-keys.js';
import { RunStore, type RunCounts, type RunOptions } from '../../src/run/run-store.js';
import type { StaCallEvent } from '../../src/sta/sta-client.js';
import { StaClient } from '../../src/sta/sta-client.js';
import { closeWorkerGracefully, startImportWorker } from '../../src/worker/import-worker.js';
import { REDIS_URL } from '../helpers/redis.js';
import { BENCH_API_KEY, BENCH_TENANT, waitUntil, type BenchContext } from './bench-kit.js';

/** A logger that writes nothing: log lines would cost time the benchmark then charges to the code. */
export const SILENT_LOGGER: Logger = pino({ level: 'silent' });

/** Generator settings of benchmark exports: `none` attestation, keys reused (cheap to generate). */
export function benchRecords(count: number, users: number, seed = 7): Generator<GeneratedRecord> {
  const options: GenerateOptions = { count, users, format: 'none', seed, keyReuse: 1000 };
  return generateRecords(options);
}

/** Writes a CSV export of {@link benchRecords}; returns its path. */
export async function writeBenchExport(path: string, count: number, users: number, seed = 7): Promise<string> {
  await writeExport(benchRecords(count, users, seed), { format: 'csv', path });
  return path;
}

/** The ingest options `sta-migrate ingest` uses (batches of 500, STA_TENANT = BENCH, base64 ids). */
export function benchIngestOptions(runId: string): { ingest: IngestOptions; runOptions: RunOptions } {
  const preflight = { rpId: null, strict: false, defaultTenant: BENCH_TENANT, objectIdFormat: 'base64' } as const;
  return { ingest: { runId, preflight, map: {}, batchSize: INGEST_BATCH_SIZE }, runOptions: { ...preflight, map: {} } };
}

/** Redis side of a run: a connection, the run store and the import queue under `prefix`. */
export interface RunSide {
  readonly redis: Redis;
  readonly runStore: RunStore;
  readonly queue: ReturnType<typeof createImportQueue>;
}

/** Opens the run store and the import queue under `prefix`; closed by the context. */
export async function openRunSide(context: BenchContext, prefix: string): Promise<RunSide> {
  const redis = createRedis(REDIS_URL, { connectionName: 'sta-bench' });
  await redis.connect();
  const queue = createImportQueue(redis, prefix);
  context.defer(async () => {
    await queue.close();
    await redis.quit().catch(() => undefined);
  });
  return { redis, runStore: new RunStore(redis, prefix), queue };
}

/** Inspects (hashes) the files, outside any timing. */
export async function inspectFiles(paths: readonly string[]): Promise<ExportFile[]> {
  return Promise.all(paths.map((path) => inspectExportFile(path, { map: {} })));
}

/** `runIngest` as `sta-migrate ingest` calls it. */
export async function ingestRun(side: RunSide, files: readonly ExportFile[], runId: string, maxWaiting: number): Promise<IngestTotals> {
  const options = benchIngestOptions(runId);
  return runIngest({ runStore: side.runStore, queue: side.queue, now: () => new Date() }, { files, ingest: options.ingest, runOptions: options.runOptions, maxWaiting });
}

/** Waits until every record of the run has an outcome (`enqueued` jobs ended); returns the counts. */
export async function waitForRun(runStore: RunStore, runId: string, expectedTotal: number, timeoutMs: number, pollMs = 20): Promise<RunCounts> {
  let counts: RunCounts | undefined;
  await waitUntil(
    `every job of run ${runId} to end`,
    async () => {
      counts = await runStore.getCounts(runId);
      return counts.total >= expectedTotal && counts.pending === 0;
    },
    { timeoutMs, pollMs },
  );
  if (!counts) throw new Error('unreachable: no counts read');
  return counts;
}

export interface WorkerSideOptions {
  readonly prefix: string;
  readonly simulatorUrl: string;
  readonly concurrency: number;
  /** STA_RATE_LIMIT, requests per second. */
  readonly ratePerSecond: number;
  readonly onCall?: (event: StaCallEvent) => void;
}

/** A running import worker and what it uses. */
export interface WorkerSide {
  readonly worker: Worker<ImportJobData, JobOutcomeName>;
  readonly sta: StaClient;
  readonly limiter: GlobalRateLimiter;
  /** Graceful close (in-flight jobs finish), then the connections. Idempotent; also deferred. */
  close(): Promise<void>;
}

/** An STA client paced by the global limiter, as Runtime.staClient builds it. */
export function pacedStaClient(simulatorUrl: string, limiter: GlobalRateLimiter | null, concurrency: number, onCall?: (event: StaCallEvent) => void): StaClient {
  return new StaClient({
    baseUrl: new URL(simulatorUrl),
    apiKey: new Secret(BENCH_API_KEY),
    objectIdFormat: 'base64',
    timeoutMs: 30_000,
    maxConnections: Math.max(8, concurrency * 2),
    ...(limiter ? { beforeRequest: () => limiter.acquire() } : {}),
    ...(onCall ? { onCall } : {}),
  });
}

/**
 * Starts an import worker in this process, composed as `executeRun` does. It starts taking jobs
 * at once.
 */
export async function startWorkerSide(context: BenchContext, side: RunSide, options: WorkerSideOptions): Promise<WorkerSide> {
  const blocking = createRedis(REDIS_URL, { blocking: true, connectionName: 'sta-bench-worker' });
  await blocking.connect();
  const limiter = new GlobalRateLimiter(side.redis, limiterKey(options.prefix), { perSecond: options.ratePerSecond });
  const sta = pacedStaClient(options.simulatorUrl, limiter, options.concurrency, options.onCall);
  const worker = startImportWorker({
    connection: blocking,
    prefix: options.prefix,
    concurrency: options.concurrency,
    sta,
    runStore: side.runStore,
    limiter,
    queue: side.queue,
    logger: SILENT_LOGGER,
  });
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await closeWorkerGracefully(worker, 10_000);
      await sta.close();
      await blocking.quit().catch(() => undefined);
    })());
  context.defer(close);
  return { worker, sta, limiter, close };
}
