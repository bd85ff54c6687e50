/**
 * ingest-vs-addbulk: what ingest costs on top of enqueueing. The same 20k records (5k users, `none`
 * attestation) go into Redis twice, measured in the same run on the same Redis:
 *   - bare BullMQ: `queue.addBulk` of the very payloads ingest would build (same job ids and job
 *     options, batches of 500), built in memory beforehand;
 *   - `runIngest`: stream the CSV, pre-flight every record (attestation decoded), claim credentials
 *     (duplicate detection), enqueue, commit records and checkpoints — no workers, the
 *     high-water mark above the record count so backpressure never waits.
 * Measured: addBulk time / ingest time (ingest's records/s as a fraction of bare addBulk's).
 * Target ≥ 0.5. Hashing the file (inspectExportFile, before ingest starts) is reported apart.
 */
import { basename, join } from 'node:path';
import { IMPORT_JOB_NAME, IMPORT_JOB_OPTIONS, importJobId, type ImportJobData } from '../../src/queue/import-queue.js';
import { deletePrefix } from '../helpers/redis.js';
import { BENCH_TENANT, round, runBenchmark, type BenchContext, type Measurement } from './bench-kit.js';
import { benchRecords, ingestRun, inspectFiles, openRunSide, writeBenchExport } from './bench-pipeline.js';

const RECORDS = 20_000;
const USERS = 5_000;
const BATCH = 500;
const TARGET = 0.5;
const WARM_UP_RECORDS = 1_000;

await runBenchmark('ingest-vs-addbulk', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 1_000);
  const users = context.scaled(USERS, 250);
  const dir = await context.tempDir();
  const path = await writeBenchExport(join(dir, 'export.csv'), count, users);
  const warmPath = await writeBenchExport(join(dir, 'warm.csv'), WARM_UP_RECORDS, 100, 99);
  context.log(`wrote ${count} records over ${users} users`);

  // Warm-up (JIT, Redis script cache) on throw-away prefixes: neither side pays for a cold start.
  await measureAddBulk(context, jobsFor(warmPath, 'warm-bulk', WARM_UP_RECORDS, 100, 99));
  await measureIngest(context, warmPath, 'warm-ingest', WARM_UP_RECORDS);

  const bulk = await measureAddBulk(context, jobsFor(path, 'bench-run', count, users, 7));
  const ingest = await measureIngest(context, path, 'bench-run', count);
  const ratio = bulk.ms / ingest.ms;
  return {
    measured: round(ratio, 2).toFixed(2),
    value: round(ratio, 3),
    target: `>= ${TARGET}`,
    pass: ratio >= TARGET,
    figures: {
      records: count,
      'addBulk ms': round(bulk.ms, 0),
      'addBulk records/s': Math.round((count / bulk.ms) * 1000),
      'ingest ms': round(ingest.ms, 0),
      'ingest records/s': Math.round((count / ingest.ms) * 1000),
      'inspect (sha256 + header) ms, not in ingest time': round(ingest.inspectMs, 0),
      'export MB': round(ingest.bytes / 1e6, 1),
    },
    notes: count < RECORDS ? ['fewer records than 20k: per-run fixed costs (run creation, lock) weigh more on ingest'] : [],
  };
});

/** The payloads ingest builds for these records, in file order (one CSV line per record, line 1 the header). */
function jobsFor(path: string, runId: string, count: number, users: number, seed: number): { runId: string; data: ImportJobData; jobId: string }[] {
  const label = path;
  let line = 1;
  return [...benchRecords(count, users, seed)].map((record) => {
    line += 1;
    const data: ImportJobData = {
      runId,
      source: `${label}:${line}`,
      tenantCode: BENCH_TENANT,
      userId: record.userId,
      credentialId: record.credentialId,
      friendlyName: record.friendlyName,
      attestationObject: record.attestationObject,
      clientDataJson: record.clientDataJson,
    };
    return { runId, data, jobId: importJobId(runId, BENCH_TENANT, record.userId, record.credentialId) };
  });
}

async function measureAddBulk(context: BenchContext, jobs: readonly { data: ImportJobData; jobId: string }[]): Promise<{ ms: number }> {
  const prefix = context.prefix('bench-bulk');
  const side = await openRunSide(context, prefix);
  await side.queue.waitUntilReady();
  const started = performance.now();
  for (let start = 0; start < jobs.length; start += BATCH) {
    await side.queue.addBulk(jobs.slice(start, start + BATCH).map((job) => ({ name: IMPORT_JOB_NAME, data: job.data, opts: { ...IMPORT_JOB_OPTIONS, jobId: job.jobId } })));
  }
  const ms = performance.now() - started;
  const waiting = await side.queue.getWaitingCount();
  if (waiting !== jobs.length) throw new Error(`addBulk left ${waiting} waiting jobs, expected ${jobs.length}`);
  // Start the ingest measurement from a Redis of the same size as before this one.
  await deletePrefix(context.redis, prefix);
  context.log(`addBulk: ${jobs.length} jobs in ${ms.toFixed(0)} ms`);
  return { ms };
}

async function measureIngest(context: BenchContext, path: string, runId: string, count: number): Promise<{ ms: number; inspectMs: number; bytes: number }> {
  const prefix = context.prefix('bench-ingest');
  const side = await openRunSide(context, prefix);
  await side.queue.waitUntilReady();
  const inspectStarted = performance.now();
  const files = await inspectFiles([path]);
  const inspectMs = performance.now() - inspectStarted;
  const started = performance.now();
  const totals = await ingestRun(side, files, runId, Math.max(RECORDS, count) + BATCH);
  const ms = performance.now() - started;
  if (totals.valid !== count) throw new Error(`ingest enqueued ${totals.valid} of ${count} records of ${basename(path)} (invalid ${totals.invalid}, duplicate ${totals.duplicate})`);
  const waiting = await side.queue.getWaitingCount();
  if (waiting !== count) throw new Error(`ingest left ${waiting} waiting jobs, expected ${count}`);
  await deletePrefix(context.redis, prefix);
  context.log(`ingest: ${count} records in ${ms.toFixed(0)} ms`);
  return { ms, inspectMs, bytes: files[0]?.bytes ?? 0 };
}
