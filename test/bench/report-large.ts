/**
 * report-large: writing the report of a million-record run stays within bounded memory. Writes N
 * synthetic records (default 1,000,000 × --scale) into a run with RunStore.commitBatch, plus their
 * ledger outcomes (a realistic mix, 1% left without one), then times `buildReport` without
 * verification and samples this process's RSS while it runs.
 *
 * Measured: peak RSS during buildReport, MB. Target ≤ 512 MB (the HTML table is capped at
 * HTML_ROW_LIMIT rows; everything else streams in chunks of 1,000). Also printed: records/s,
 * file sizes, RSS before.
 *
 * The outcomes are written with pipelined HSETs of the ledger hash (the JSON RunStore.recordOutcome
 * stores), not one Lua call per job: a million round trips would make set-up the benchmark.
 */
import { stat } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { createImportQueue } from '../../src/queue/import-queue.js';
import { buildReport } from '../../src/report/build-report.js';
import type { JobOutcome } from '../../src/run/outcome.js';
import type { RecordEntry } from '../../src/run/record-entry.js';
import { RunStore, type FileProgress } from '../../src/run/run-store.js';
import { round, runBenchmark, type Measurement } from './bench-kit.js';

const RECORDS = 1_000_000;
const BATCH = 5_000;
const TARGET_PEAK_RSS_MB = 512;
const RUN_ID = 'bench-report-large';
const TENANT = 'BENCH';

/** Which outcome record `index` gets: 90% imported, the rest spread over every other kind. */
function kindOf(index: number): 'imported' | 'already-imported' | 'conflict' | 'failed' | 'invalid' | 'duplicate' | 'pending' {
  const slot = index % 100;
  if (slot < 90) return 'imported';
  if (slot < 92) return 'already-imported';
  if (slot < 93) return 'conflict';
  if (slot < 96) return 'failed';
  if (slot < 97) return 'invalid';
  if (slot < 99) return 'duplicate';
  return 'pending';
}

function entryOf(index: number): RecordEntry {
  const kind = kindOf(index);
  const userId = Buffer.from(`bench-user-${index % 250_000}`).toString('base64');
  const credentialId = Buffer.from(`bench-credential-${index}`).toString('base64url');
  const enqueued = kind !== 'invalid' && kind !== 'duplicate';
  return {
    source: `large.csv:${index + 2}`,
    externalId: `cms-${String(index).padStart(7, '0')}`,
    tenantCode: TENANT,
    userId,
    credentialId: kind === 'invalid' ? null : credentialId,
    friendlyName: index % 10 === 0 ? `=HYPERLINK("x","Key ${index}")` : `Key ${index}`,
    state: null,
    ingestOutcome: kind === 'invalid' ? 'invalid' : kind === 'duplicate' ? 'duplicate' : 'pending',
    message: kind === 'invalid' ? 'attestationObject is missing' : kind === 'duplicate' ? `same credential as large.csv:${index + 1}; only the first is imported` : null,
    warnings: [],
    jobId: enqueued ? `${RUN_ID}.job${index}` : null,
  };
}

function outcomeOf(index: number, at: string): JobOutcome | null {
  switch (kindOf(index)) {
    case 'imported':
      return { outcome: 'imported', httpStatus: 200, message: null, attempts: 1, staId: null, staState: 'pending', at };
    case 'already-imported':
      return { outcome: 'already-imported', httpStatus: 409, message: 'The authenticator is already in use.', attempts: 1, staId: null, staState: 'active', at };
    case 'conflict':
      return { outcome: 'conflict', httpStatus: 409, message: 'The authenticator is already in use. The credential is registered to another user of the tenant.', attempts: 1, staId: null, staState: null, at };
    case 'failed':
      return { outcome: 'failed', httpStatus: 404, message: `base64 userId ‘user${index}’ was not found.`, attempts: 1, staId: null, staState: null, at };
    case 'invalid':
    case 'duplicate':
    case 'pending':
      return null;
  }
}

async function writeRun(redis: Redis, runStore: RunStore, count: number, log: (message: string) => void): Promise<void> {
  const now = new Date();
  await runStore.ensureRun(RUN_ID, { rpId: null, strict: false, defaultTenant: TENANT, objectIdFormat: 'base64', map: {} }, now);
  const outcomesKey = runStore.keys(RUN_ID).outcomes;
  for (let start = 0; start < count; start += BATCH) {
    const end = Math.min(count, start + BATCH);
    const entries: RecordEntry[] = [];
    const ledger: string[] = [];
    for (let index = start; index < end; index += 1) {
      const entry = entryOf(index);
      entries.push(entry);
      const outcome = outcomeOf(index, now.toISOString());
      if (entry.jobId !== null && outcome !== null) ledger.push(entry.jobId, JSON.stringify(outcome));
    }
    const file: FileProgress = {
      name: 'large.csv',
      path: '/bench/large.csv',
      sha256: 'b'.repeat(64),
      format: 'csv',
      bytes: 0,
      recordsCommitted: end,
      done: end === count,
      startedAt: now.toISOString(),
      finishedAt: end === count ? now.toISOString() : null,
    };
    await runStore.commitBatch(RUN_ID, file, entries, now);
    if (ledger.length > 0) await redis.hset(outcomesKey, ...ledger);
    if (end % 100_000 === 0) log(`wrote ${end} records`);
  }
  await runStore.setIngestDone(RUN_ID, true, now);
}

await runBenchmark('report-large', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 10_000);
  const prefix = context.prefix('bench-report');
  const runStore = new RunStore(context.redis, prefix);
  const queue = createImportQueue(context.redis, prefix);
  context.defer(() => queue.close());
  await writeRun(context.redis, runStore, count, context.log);
  context.log(`run of ${count} records written; building the report`);

  const reportDir = await context.tempDir();
  global.gc?.();
  const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
  let peakMb = rssBeforeMb;
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, process.memoryUsage().rss / 1024 / 1024);
  }, 20);
  const started = performance.now();
  const built = await buildReport({ redis: context.redis, runStore, queue, verify: null, reportDir, now: () => new Date() }, RUN_ID).finally(() => {
    clearInterval(sampler);
  });
  const seconds = (performance.now() - started) / 1000;
  peakMb = Math.max(peakMb, process.memoryUsage().rss / 1024 / 1024);
  const sizeMb = async (path: string) => round((await stat(path)).size / 1024 / 1024, 1);
  if (built.summary.total !== count) throw new Error(`report counted ${built.summary.total} records, expected ${count}`);
  return {
    measured: `${round(peakMb, 0)} MB`,
    value: round(peakMb, 1),
    target: `<= ${TARGET_PEAK_RSS_MB} MB peak RSS`,
    pass: peakMb <= TARGET_PEAK_RSS_MB,
    figures: {
      records: count,
      seconds: round(seconds, 1),
      recordsPerSecond: Math.round(count / seconds),
      rssBeforeMb: round(rssBeforeMb, 1),
      peakRssMb: round(peakMb, 1),
      jsonMb: await sizeMb(built.paths.json),
      csvMb: await sizeMb(built.paths.csv),
      htmlMb: await sizeMb(built.paths.html),
      pending: built.summary.pending,
      failureGroups: built.groups.length,
    },
  };
});
