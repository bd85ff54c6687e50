/**
 * What the report's integration tests share: real Redis under a fresh prefix, a real simulator
 * on port 0, the run store and import queue, an STA client paced by the global limiter (counting
 * its calls), a worker that can be run until a run has no pending job, and file helpers.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { renderExport } from '../../../fixtures/export-writer.js';
import type { ExportRecord } from '../../../fixtures/export-record.js';
import { Secret } from '../../../src/config/secret.js';
import { inspectExportFile } from '../../../src/ingest/export-file.js';
import type { IngestTotals } from '../../../src/ingest/ingest-pipeline.js';
import { runIngest } from '../../../src/ingest/run-ingest.js';
import { GlobalRateLimiter } from '../../../src/queue/global-rate-limiter.js';
import { createImportQueue, type ImportJobData } from '../../../src/queue/import-queue.js';
import { createRedis } from '../../../src/redis/connection.js';
import { buildReport, type BuiltReport } from '../../../src/report/build-report.js';
import { verifyRun } from '../../../src/report/verify-run.js';
import { limiterKey } from '../../../src/run/run-keys.js';
import type { RunOptions } from '../../../src/run/run-store.js';
import { RunStore } from '../../../src/run/run-store.js';
import { startSimulator } from '../../../src/simulator/index.js';
import type { RunningSimulator, SimulatorOptions } from '../../../src/simulator/index.js';
import { StaClient, type StaCallEvent } from '../../../src/sta/sta-client.js';
import { startImportWorker } from '../../../src/worker/import-worker.js';
import { connectRedis, deletePrefix, freshPrefix, REDIS_URL } from '../../helpers/redis.js';

export const TENANT = 'DEMO';

export const RUN_OPTIONS: RunOptions = { rpId: null, strict: false, defaultTenant: TENANT, objectIdFormat: 'base64', map: {} };

export interface ReportEnv {
  readonly prefix: string;
  readonly redis: Redis;
  readonly sim: RunningSimulator;
  readonly apiKey: string;
  readonly runStore: RunStore;
  readonly queue: Queue<ImportJobData>;
  readonly limiter: GlobalRateLimiter;
  /** Paced by {@link limiter}; every exchange lands in {@link calls}. */
  readonly sta: StaClient;
  readonly calls: StaCallEvent[];
  /** Times the client waited on the global limiter. */
  readonly acquired: { count: number };
  readonly logger: Logger;
  /** A temporary folder, removed by close(). */
  readonly dir: string;
  close(): Promise<void>;
}

/** Starts Redis (fresh prefix), a simulator whose only key is `apiKey`, and the run's plumbing. */
export async function startReportEnv(apiKey: string, simulator: Omit<SimulatorOptions, 'apiKeys' | 'port'> & { ownerUserId?: string } = {}): Promise<ReportEnv> {
  const prefix = freshPrefix('report');
  const redis = connectRedis();
  const { ownerUserId, ...simOptions } = simulator;
  const sim = await startSimulator({
    port: 0,
    tenants: [{ code: TENANT }],
    ...simOptions,
    apiKeys: [{ key: apiKey, tenants: '*', ...(ownerUserId === undefined ? {} : { ownerUserId }) }],
  });
  const runStore = new RunStore(redis, prefix);
  const queue = createImportQueue(redis, prefix);
  const limiter = new GlobalRateLimiter(redis, limiterKey(prefix), { perSecond: 2000 });
  const calls: StaCallEvent[] = [];
  const acquired = { count: 0 };
  const sta = new StaClient({
    baseUrl: new URL(sim.url),
    apiKey: new Secret(apiKey),
    objectIdFormat: 'base64',
    timeoutMs: 10_000,
    beforeRequest: async () => {
      acquired.count += 1;
      await limiter.acquire();
    },
    onCall: (event) => calls.push(event),
  });
  const dir = await mkdtemp(join(tmpdir(), 'sta-report-'));
  return {
    prefix,
    redis,
    sim,
    apiKey,
    runStore,
    queue,
    limiter,
    sta,
    calls,
    acquired,
    logger: pino({ level: 'silent' }),
    dir,
    close: async () => {
      await queue.close();
      await sta.close();
      await sim.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `records` as an RFC 4180 CSV export at `path`. */
export async function writeCsvExport(path: string, records: readonly ExportRecord[]): Promise<string> {
  await writeFile(path, renderExport(records, { format: 'csv' }));
  return path;
}

/** Ingests export files into `runId` as `sta-migrate ingest` does (no worker). */
export async function ingestFiles(env: ReportEnv, runId: string, paths: readonly string[]): Promise<IngestTotals> {
  const files = await Promise.all(paths.map((path) => inspectExportFile(path, { map: {} })));
  return runIngest(
    { runStore: env.runStore, queue: env.queue, now: () => new Date() },
    {
      files,
      ingest: { runId, preflight: { rpId: null, strict: false, defaultTenant: TENANT, objectIdFormat: 'base64' }, map: {}, batchSize: 50 },
      runOptions: RUN_OPTIONS,
      maxWaiting: 10_000,
    },
  );
}

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs an import worker until every job of `runId` has an outcome, then closes it. */
export async function workUntilDone(env: ReportEnv, runId: string, timeoutMs = 20_000): Promise<void> {
  const connection = createRedis(REDIS_URL, { blocking: true, connectionName: 'report-test-worker' });
  await connection.connect();
  const worker = startImportWorker({
    connection,
    prefix: env.prefix,
    concurrency: 4,
    sta: env.sta,
    runStore: env.runStore,
    limiter: env.limiter,
    queue: env.queue,
    logger: env.logger,
  });
  try {
    await waitFor(async () => (await env.runStore.getCounts(runId)).pending === 0, timeoutMs, `run ${runId} to have no pending job`);
  } finally {
    await worker.close();
    await connection.quit();
  }
}

/** Builds the report of `runId` into `reportDir`, verifying against the simulator when asked. */
export async function reportOf(env: ReportEnv, runId: string, reportDir: string, options: { verify?: boolean } = {}): Promise<BuiltReport> {
  const verify = options.verify
    ? (id: string) =>
        verifyRun(
          { redis: env.redis, runStore: env.runStore, sta: env.sta, holdFor: (ms) => env.limiter.holdFor(ms), concurrency: 4, logger: env.logger },
          id,
        )
    : null;
  return buildReport({ redis: env.redis, runStore: env.runStore, queue: env.queue, verify, reportDir, now: () => new Date() }, runId);
}

/** report.json of a built report, parsed. */
export async function readJson(report: BuiltReport): Promise<unknown> {
  return JSON.parse(await readFile(report.paths.json, 'utf8')) as unknown;
}
