/**
 * ingest-1m-rss: memory. Three measurements:
 *   1. Peak RSS of `sta-migrate ingest <1M-record CSV>` into Redis (the built CLI in a child
 *      process, a fresh QUEUE_PREFIX, `--max-waiting` above the record count so that no worker
 *      is needed to drain it): getrusage maxRSS, printed by the child at exit through an
 *      `--import` hook, cross-checked by polling /proc/<pid>/status VmHWM. Target < 300 MB.
 *      The export is generated once into fixtures/large/ (git-ignored) and reused while its size
 *      matches its sidecar `.meta.json`.
 *   1b. The same for `--dry-run`, which keeps the run's duplicate index in the process instead of
 *      Redis: reported beside it.
 *   2. Redis bytes per queued job and per run record (+ ledger entry), for the production guide:
 *      ingest 10k records with runIngest, sum MEMORY USAGE of the keys under the prefix (other
 *      clients of the same Redis do not count, unlike an INFO delta — printed for context), then
 *      write an outcome for every job, drop the jobs (as completion does) and measure again.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { BREAKER_THRESHOLD } from '../../src/importer/retry-policy.js';
import { IMPORT_QUEUE_NAME } from '../../src/queue/import-queue.js';
import { deletePrefix, REDIS_URL } from '../helpers/redis.js';
import { keyMemoryBytes, redisUsedMemory, REPO_ROOT, round, runBenchmark, type BenchContext, type Measurement } from './bench-kit.js';
import { ingestRun, inspectFiles, openRunSide, writeBenchExport } from './bench-pipeline.js';

const RECORDS = 1_000_000;
const REDIS_SAMPLE_RECORDS = 10_000;
const TARGET_MB = 300;
const LARGE_DIR = join(REPO_ROOT, 'fixtures', 'large');
const BIN = join(REPO_ROOT, 'bin', 'sta-migrate.js');
const MAXRSS_MARK = 'BENCH_MAXRSS_KB ';
/** Loaded into the CLI process: prints its own peak RSS as it exits (no tsx, no extra memory). */
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  `import { writeSync } from 'node:fs'; process.on('exit', () => { writeSync(2, '\\n${MAXRSS_MARK}' + process.resourceUsage().maxRSS + '\\n'); });`,
)}`;

await runBenchmark('ingest-1m-rss', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 10_000);
  const exportPath = await largeExport(context, count);
  const prefix = context.prefix('bench-1m');
  const ingest = await measureIngest(context, exportPath, count, ['--run', 'bench-1m', '--max-waiting', String(count + 1)], { QUEUE_PREFIX: prefix, REDIS_URL: REDIS_URL });
  await deletePrefix(context.redis, prefix);
  const dryRun = await measureIngest(context, exportPath, count, ['--dry-run', '--run', 'bench-dry-run'], {});
  const redisBytes = await measureRedisBytes(context);
  return {
    measured: `${ingest.peakMb} MB`,
    value: ingest.peakMb,
    target: `< ${TARGET_MB} MB`,
    pass: ingest.peakMb < TARGET_MB,
    figures: {
      records: count,
      'export MB': round(ingest.fileBytes / 1e6, 0),
      'ingest s': round(ingest.ms / 1000, 1),
      'ingest records/s': Math.round((count / ingest.ms) * 1000),
      'ingest peak RSS MB (getrusage maxRSS)': ingest.maxRssMb ?? 'not reported',
      'ingest peak RSS MB (polled VmHWM)': ingest.vmHwmMb,
      'dry-run s': round(dryRun.ms / 1000, 1),
      'dry-run peak RSS MB (duplicate index in process)': dryRun.peakMb,
      ...redisBytes,
    },
    notes: count < RECORDS ? ['fewer records than 1M: per-record state (the duplicate map) weighs less than at full size'] : [],
  };
});

interface ExportMeta {
  readonly count: number;
  readonly users: number;
  readonly seed: number;
  readonly bytes: number;
}

/** fixtures/large/bench-<count>.csv, generated unless a file of the recorded size is there. */
async function largeExport(context: BenchContext, count: number): Promise<string> {
  const path = join(LARGE_DIR, `bench-${count}.csv`);
  const metaPath = `${path}.meta.json`;
  const wanted = { count, users: Math.max(1, Math.round(count / 4)), seed: 11 };
  try {
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as ExportMeta;
    const info = await stat(path);
    if (meta.count === wanted.count && meta.users === wanted.users && meta.seed === wanted.seed && meta.bytes === info.size) {
      context.log(`reusing ${path}`);
      return path;
    }
  } catch {
    // Missing or unreadable: generate.
  }
  context.log(`generating ${path} (${count} records; reused by later runs)`);
  const started = performance.now();
  await writeBenchExport(path, wanted.count, wanted.users, wanted.seed);
  const { size } = await stat(path);
  await writeFile(metaPath, `${JSON.stringify({ ...wanted, bytes: size } satisfies ExportMeta)}\n`);
  context.log(`generated ${round(size / 1e6, 0)} MB in ${round((performance.now() - started) / 1000, 1)} s`);
  return path;
}

async function measureIngest(
  context: BenchContext,
  path: string,
  count: number,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ peakMb: number; maxRssMb: number | null; vmHwmMb: number; ms: number; fileBytes: number }> {
  const reportDir = await context.tempDir();
  const fileBytes = (await stat(path)).size;
  const started = performance.now();
  // cwd = the temp folder, so a developer's .env in the repo does not change the run.
  const child = spawn(process.execPath, ['--import', RSS_HOOK, BIN, 'ingest', path, ...args], {
    cwd: reportDir,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', REPORT_DIR: join(reportDir, 'reports'), STA_TENANT: 'BENCH', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  context.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // Written from the stderr reader: a holder keeps type narrowing honest.
  const reported: { maxRssKb: number | null } = { maxRssKb: null };
  let stdout = '';
  const stderrTail: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line.startsWith(MAXRSS_MARK)) reported.maxRssKb = Number(line.slice(MAXRSS_MARK.length));
    else if (line.trim() !== '') stderrTail.splice(0, Math.max(0, stderrTail.length - 20), line);
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => {
    resolve(code);
  }));
  let vmHwmKb = 0;
  let done = false;
  void closed.then(() => (done = true));
  const timeoutAt = performance.now() + 60_000 + count * 2;
  while (!done) {
    vmHwmKb = Math.max(vmHwmKb, await readVmHwmKb(child.pid ?? -1));
    if (performance.now() > timeoutAt) {
      child.kill('SIGKILL');
      throw new Error(`sta-migrate ingest ${args.join(' ')} did not finish within ${Math.round((timeoutAt - started) / 1000)} s`);
    }
    await sleep(100);
  }
  const code = await closed;
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`sta-migrate ingest ${args.join(' ')} exited ${String(code)}:\n${stdout.slice(-2000)}\n${stderrTail.join('\n')}`);
  if (!new RegExp(`\\b${count}\\b`).test(stdout)) context.log(`warning: the summary does not mention ${count} records:\n${stdout}`);
  context.log(`ingest ${args.join(' ')}: ${count} records in ${round(ms / 1000, 1)} s`);
  const maxRssMb = reported.maxRssKb === null ? null : round(reported.maxRssKb / 1024, 1);
  const vmHwmMb = round(vmHwmKb / 1024, 1);
  return { peakMb: Math.max(maxRssMb ?? 0, vmHwmMb), maxRssMb, vmHwmMb, ms, fileBytes };
}

/** VmHWM (peak RSS so far) of a process, kB; 0 once it is gone. */
async function readVmHwmKb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function measureRedisBytes(context: BenchContext): Promise<Record<string, number>> {
  const count = context.scaled(REDIS_SAMPLE_RECORDS, 1_000);
  const dir = await context.tempDir();
  const path = await writeBenchExport(join(dir, 'sample.csv'), count, Math.max(1, Math.round(count / 4)), 12);
  const prefix = context.prefix('bench-mem');
  const side = await openRunSide(context, prefix);
  await side.queue.waitUntilReady();
  const runId = 'bench-mem';
  const files = await inspectFiles([path]);
  const usedBefore = await redisUsedMemory(context.redis);
  const totals = await ingestRun(side, files, runId, count + 1000);
  const usedAfter = await redisUsedMemory(context.redis);
  if (totals.valid !== count) throw new Error(`ingest enqueued ${totals.valid} of ${count}`);

  const queuePrefix = `${prefix}:${IMPORT_QUEUE_NAME}:`;
  const classify = (key: string) => {
    if (key.startsWith(`${queuePrefix}${runId}.`)) return 'job';
    if (key === `${queuePrefix}events`) return 'events';
    if (key.startsWith(queuePrefix)) return 'queue';
    return 'run';
  };
  const queued = await keyMemoryBytes(context.redis, `${prefix}:*`, classify);
  const jobBytes = (queued['job']?.bytes ?? 0) + (queued['queue']?.bytes ?? 0);
  const runBytesBefore = queued['run']?.bytes ?? 0;

  // What completion leaves: an outcome per job in the ledger; the jobs themselves are removed.
  const jobs: { jobId: string; credentialId: string }[] = [];
  for (let start = 0; start < count; start += 1000) {
    for (const entry of await side.runStore.getRecords(runId, start, 1000)) {
      if (entry.jobId !== null && entry.credentialId !== null) jobs.push({ jobId: entry.jobId, credentialId: entry.credentialId });
    }
  }
  const now = new Date();
  for (let start = 0; start < jobs.length; start += 200) {
    await Promise.all(
      jobs.slice(start, start + 200).map(({ jobId, credentialId }) =>
        side.runStore.recordOutcome(
          runId,
          {
            jobId,
            outcome: { outcome: 'imported', httpStatus: 201, message: null, attempts: 1, staId: credentialId, staState: 'pending', at: now.toISOString() },
            breakerCode: null,
            breakerThreshold: BREAKER_THRESHOLD,
          },
          now,
        ),
      ),
    );
  }
  await deletePrefix(context.redis, `${prefix}:${IMPORT_QUEUE_NAME}`);
  const after = await keyMemoryBytes(context.redis, `${prefix}:run:*`);
  const runBytesAfter = after['all']?.bytes ?? 0;
  context.log(`Redis: ${count} queued jobs ${round(jobBytes / 1e6, 1)} MB, run ${round(runBytesAfter / 1e6, 1)} MB with outcomes`);
  return {
    'sample records (Redis figures)': count,
    'bytes per queued job': Math.round(jobBytes / count),
    'bytes per run record (ingest, before outcomes)': Math.round(runBytesBefore / count),
    'bytes per run record + ledger entry': Math.round(runBytesAfter / count),
    'queue events stream bytes (capped, per queue)': queued['events']?.bytes ?? 0,
    'INFO used_memory delta per record during ingest (noisy: whole server)': Math.round((usedAfter - usedBefore) / count),
  };
}
