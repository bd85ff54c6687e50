/**
 * e2e-vs-bullmq-noop: the whole pipeline against the floor BullMQ itself sets. 10k records, the
 * simulator in its own process with no latency and no limit, the same concurrency on both sides:
 *   - end to end: an in-process import worker (STA_RATE_LIMIT 100000) is started, then
 *     `runIngest` streams the CSV; timed until ingest is done and every job has an outcome;
 *   - bare BullMQ: a Worker with an empty async processor is started, then `queue.addBulk`
 *     (batches of 500) of the same payloads, same job ids and options; timed until the last
 *     job completed.
 * Measured: end-to-end jobs/s as a fraction of no-op jobs/s. Target (an aim) ≥ 0.3.
 */
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { IMPORT_JOB_NAME, IMPORT_JOB_OPTIONS, importJobId, type ImportJobData } from '../../src/queue/import-queue.js';
import { createRedis } from '../../src/redis/connection.js';
import { REDIS_URL } from '../helpers/redis.js';
import { BENCH_TENANT, round, runBenchmark, spawnSimulator, type BenchContext, type Measurement, type SimulatorProcess } from './bench-kit.js';
import { benchRecords, ingestRun, inspectFiles, openRunSide, startWorkerSide, waitForRun, writeBenchExport } from './bench-pipeline.js';

const RECORDS = 10_000;
const CONCURRENCY = 32;
const RATE_PER_SECOND = 100_000;
const BATCH = 500;
const TARGET = 0.3;
const WARM_UP_RECORDS = 300;
const SEED = 61;

await runBenchmark('e2e-vs-bullmq-noop', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 500);
  const users = Math.max(1, Math.round(count / 4));
  const dir = await context.tempDir();
  const path = await writeBenchExport(join(dir, 'export.csv'), count, users, SEED);
  const warmPath = await writeBenchExport(join(dir, 'warm.csv'), WARM_UP_RECORDS, 100, SEED + 1);
  const simulator = await spawnSimulator(context);

  // Warm-up on throw-away prefixes and a reset simulator: neither side pays for a cold start.
  await measureNoop(context, warmPath, WARM_UP_RECORDS, 100, SEED + 1);
  await measureEndToEnd(context, simulator, warmPath, WARM_UP_RECORDS);
  await simulator.reset();

  const noop = await measureNoop(context, path, count, users, SEED);
  const e2e = await measureEndToEnd(context, simulator, path, count);
  const stats = await simulator.stats();
  const fraction = noop.ms / e2e.ms;
  return {
    measured: round(fraction, 2).toFixed(2),
    value: round(fraction, 3),
    target: `>= ${TARGET}`,
    pass: fraction >= TARGET,
    figures: {
      records: count,
      concurrency: CONCURRENCY,
      'end-to-end ms (ingest + import)': round(e2e.ms, 0),
      'end-to-end jobs/s': Math.round((count / e2e.ms) * 1000),
      'ingest part ms (ran alongside the workers)': round(e2e.ingestMs, 0),
      'bullmq no-op ms (addBulk + process)': round(noop.ms, 0),
      'bullmq no-op jobs/s': Math.round((count / noop.ms) * 1000),
      'simulator POSTs': stats.requests.byOperation.create,
    },
    notes: ['an aim rather than a hard limit (issue wording); printed either way'],
  };
});

async function measureNoop(context: BenchContext, path: string, count: number, users: number, seed: number): Promise<{ ms: number }> {
  const prefix = context.prefix('bench-noop');
  const redis = createRedis(REDIS_URL, { connectionName: 'sta-bench-noop' });
  const blocking = createRedis(REDIS_URL, { blocking: true, connectionName: 'sta-bench-noop-worker' });
  await Promise.all([redis.connect(), blocking.connect()]);
  const queue = new Queue<ImportJobData>('noop', { connection: redis, prefix });
  let completed = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const worker = new Worker<ImportJobData>('noop', async () => {}, { connection: blocking, prefix, concurrency: CONCURRENCY, autorun: false });
  worker.on('completed', () => {
    completed += 1;
    if (completed === count) resolveDone();
  });
  worker.on('error', (error) => {
    context.log(`no-op worker error: ${error.message}`);
  });
  const close = async () => {
    await worker.close();
    await queue.close();
    await Promise.all([redis.quit().catch(() => undefined), blocking.quit().catch(() => undefined)]);
  };
  context.defer(close);

  let line = 1;
  const jobs = [...benchRecords(count, users, seed)].map((record) => {
    line += 1;
    const data: ImportJobData = {
      runId: 'bench-noop',
      source: `${path}:${line}`,
      tenantCode: BENCH_TENANT,
      userId: record.userId,
      credentialId: record.credentialId,
      friendlyName: record.friendlyName,
      attestationObject: record.attestationObject,
      clientDataJson: record.clientDataJson,
    };
    return { name: IMPORT_JOB_NAME, data, opts: { ...IMPORT_JOB_OPTIONS, jobId: importJobId('bench-noop', BENCH_TENANT, record.userId, record.credentialId) } };
  });
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  const started = performance.now();
  void worker.run();
  for (let start = 0; start < jobs.length; start += BATCH) await queue.addBulk(jobs.slice(start, start + BATCH));
  await withTimeout(done, 60_000 + count * 10, `${count} no-op jobs to complete`);
  const ms = performance.now() - started;
  await close();
  context.log(`bullmq no-op: ${count} jobs in ${round(ms, 0)} ms`);
  return { ms };
}

async function measureEndToEnd(context: BenchContext, simulator: SimulatorProcess, path: string, count: number): Promise<{ ms: number; ingestMs: number }> {
  const prefix = context.prefix('bench-e2e');
  const side = await openRunSide(context, prefix);
  const files = await inspectFiles([path]);
  await side.queue.waitUntilReady();
  const runId = 'bench-e2e';
  const started = performance.now();
  const workers = await startWorkerSide(context, side, { prefix, simulatorUrl: simulator.url, concurrency: CONCURRENCY, ratePerSecond: RATE_PER_SECOND });
  let ingestMs = 0;
  const ingest = ingestRun(side, files, runId, Math.max(50_000, count)).then(() => (ingestMs = performance.now() - started));
  await ingest;
  const counts = await waitForRun(side.runStore, runId, count, 60_000 + count * 20, 10);
  const ms = performance.now() - started;
  await workers.close();
  if (counts.imported !== count) throw new Error(`end to end imported ${counts.imported} of ${count} (failed ${counts.failed}, conflict ${counts.conflict}, already ${counts.alreadyImported})`);
  context.log(`end to end: ${count} records in ${round(ms, 0)} ms`);
  return { ms, ingestMs };
}

async function withTimeout(promise: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
