/**
 * worker-memory: does a long-running `sta-migrate work` process stay flat? Runs ~20k jobs through
 * ONE real `work` process (the built CLI, logging at info as in production) against the simulator
 * (its own process), while this process keeps the queue fed (at most MAX_WAITING jobs waiting, as
 * ingest's backpressure does) and samples the worker's resident set from /proc/<pid>/status.
 *
 * The worker's old generation is capped (HEAP_CAP_MB, as a container's memory limit would make one
 * set it): uncapped, V8 grows its heap lazily — to ~200 MB RSS at ~2500 jobs/s — whether or not
 * anything leaks, which says nothing about leaks. Capped, a leak of ~2 KB per job exhausts the heap
 * within the run (the worker dies: the benchmark errors) and a smaller one shows as growth.
 *
 * Figure: RSS growth after warm-up = median RSS while the last 10% of the jobs ran − median RSS
 * while the 10% after warm-up (the first WARMUP_SHARE of the jobs) ran. Medians, because a single
 * sample can land on a garbage-collection peak; the peak is printed too. Target < 40 MB. Linux only
 * (reads /proc). Needs `npm run build`.
 *
 *   node --import tsx test/bench/worker-memory.ts [--scale 0.25]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMPORT_JOB_NAME, IMPORT_JOB_OPTIONS, importJobId, type ImportJobData } from '../../src/queue/import-queue.js';
import { REDIS_URL } from '../helpers/redis.js';
import { BENCH_API_KEY, BENCH_TENANT, REPO_ROOT, round, runBenchmark, spawnSimulator, waitUntil, type Measurement } from './bench-kit.js';
import { benchRecords, openRunSide } from './bench-pipeline.js';

const JOBS = 20_000;
const TARGET_GROWTH_MB = 40;
const WARMUP_SHARE = 0.1;
const MAX_WAITING = 2000;
const BATCH = 500;
const CONCURRENCY = 32;
const HEAP_CAP_MB = 64;
const SAMPLE_MS = 200;
const RUN_ID = 'worker-memory';
const BIN = join(REPO_ROOT, 'bin', 'sta-migrate.js');

/** Resident set of a process, MB (VmRSS). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

await runBenchmark('worker-memory', async (context): Promise<Measurement> => {
  if (process.platform !== 'linux') throw new Error('worker-memory reads /proc/<pid>/status: Linux only');
  const jobs = context.scaled(JOBS, 2000);
  const sim = await spawnSimulator(context);
  const prefix = context.prefix('wmem');
  const side = await openRunSide(context, prefix);
  await side.runStore.ensureRun(RUN_ID, { rpId: null, strict: false, defaultTenant: BENCH_TENANT, objectIdFormat: 'base64', map: {} }, new Date());

  const worker = spawn(process.execPath, [BIN, 'work', '--concurrency', String(CONCURRENCY)], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      STA_BASE_URL: sim.url,
      STA_API_KEY: BENCH_API_KEY,
      STA_RATE_LIMIT: '5000',
      QUEUE_PREFIX: prefix,
      REDIS_URL,
      LOG_LEVEL: 'info',
      NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => {
    resolve(code);
  }));
  context.defer(async () => {
    if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
    await exited;
  });
  let started = false;
  let logLines = 0;
  worker.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (text.includes('worker started')) started = true;
    logLines += text.split('\n').length - 1;
  });
  await waitUntil('`work` to start', () => Promise.resolve(started), { timeoutMs: 30_000 });
  const pid = worker.pid ?? -1;

  const outcomesKey = side.runStore.keys(RUN_ID).outcomes;
  const samples: { done: number; rssMb: number }[] = [];
  const sampling = { on: true };
  const alive = (): void => {
    if (worker.exitCode !== null || worker.signalCode !== null) throw new Error(`the worker died (${worker.signalCode ?? `exit ${String(worker.exitCode)}`}): heap exhausted?`);
  };
  const sampler = (async () => {
    while (sampling.on && worker.exitCode === null && worker.signalCode === null) {
      const [done, rss] = await Promise.all([side.redis.hlen(outcomesKey), rssMb(pid).catch(() => Number.NaN)]);
      if (!Number.isNaN(rss)) samples.push({ done, rssMb: rss });
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();

  const startedAt = performance.now();
  const records = benchRecords(jobs, Math.max(1, Math.round(jobs / 4)));
  let enqueued = 0;
  while (enqueued < jobs) {
    alive();
    const done = await side.redis.hlen(outcomesKey);
    if (enqueued - done > MAX_WAITING) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const batch = [];
    for (let i = 0; i < BATCH && enqueued < jobs; i += 1, enqueued += 1) {
      const next = records.next();
      if (next.done) throw new Error('the generator ran out of records');
      const record = next.value;
      const data: ImportJobData = {
        runId: RUN_ID,
        source: `bench.csv:${enqueued + 2}`,
        tenantCode: BENCH_TENANT,
        userId: record.userId,
        credentialId: record.credentialId,
        friendlyName: record.friendlyName,
        attestationObject: record.attestationObject,
        clientDataJson: record.clientDataJson,
      };
      batch.push({ name: IMPORT_JOB_NAME, data, opts: { ...IMPORT_JOB_OPTIONS, jobId: importJobId(RUN_ID, BENCH_TENANT, record.userId, record.credentialId) } });
    }
    await side.queue.addBulk(batch);
    context.log(`enqueued ${enqueued}/${jobs}; worker RSS ${round(samples.at(-1)?.rssMb ?? 0, 1)} MB`);
  }
  await waitUntil(
    'every job to end',
    async () => {
      alive();
      return (await side.redis.hlen(outcomesKey)) >= jobs;
    },
    { timeoutMs: 30 * 60_000, pollMs: 100 },
  );
  const elapsedMs = performance.now() - startedAt;
  sampling.on = false;
  await sampler;

  const counts = await side.runStore.getCounts(RUN_ID);
  const warmupJobs = jobs * WARMUP_SHARE;
  const baseline = median(samples.filter((sample) => sample.done >= warmupJobs && sample.done < 2 * warmupJobs).map((sample) => sample.rssMb));
  const after = samples.filter((sample) => sample.done >= warmupJobs).map((sample) => sample.rssMb);
  const peakAfter = Math.max(...after);
  const final = median(samples.filter((sample) => sample.done >= jobs * 0.9).map((sample) => sample.rssMb));
  const growth = round(final - baseline, 1);
  const simStats = await sim.stats();
  return {
    measured: `${growth} MB`,
    value: growth,
    target: `< ${TARGET_GROWTH_MB} MB`,
    pass: growth < TARGET_GROWTH_MB && counts.imported === jobs,
    figures: {
      jobs,
      imported: counts.imported,
      'jobs/s': Math.round((jobs / elapsedMs) * 1000),
      'RSS at start MB': round(samples[0]?.rssMb ?? Number.NaN, 1),
      'RSS after warm-up (median) MB': round(baseline, 1),
      'RSS peak after warm-up MB': round(peakAfter, 1),
      'RSS over the last 10% (median) MB': round(final, 1),
      'RSS samples': samples.length,
      'worker log lines': logLines,
      'STA requests': simStats.requests.total,
    },
    notes: [`one \`work\` process, concurrency ${CONCURRENCY}, LOG_LEVEL info, --max-old-space-size=${HEAP_CAP_MB}; warm-up = first ${WARMUP_SHARE * 100}% of the jobs`],
  };
});
