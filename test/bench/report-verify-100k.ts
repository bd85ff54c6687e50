/**
 * report-verify-100k: `report --verify` on a large run. A run of 100k records over 20k users (2%
 * of them on 1 user in 400, so some users span several pages) is written straight into Redis
 * (RunStore.commitBatch + recordOutcome, every record `imported`), and the simulator (own
 * process, no limit) is seeded with the same credentials through its control route — all but
 * every 50th, which verification must then find `missing`. Timed: `buildReport` with `verifyRun`
 * against the simulator (STA_RATE_LIMIT 100000, 16 users listed at a time). Checked: STA list
 * calls (simulator stats) = list pages expected = Σ over users of max(1, ceil(k / 20)), k = the
 * user's authenticators in STA; and the verified counts. Peak RSS printed for context.
 */
import { Agent, request } from 'undici';
import { BREAKER_THRESHOLD } from '../../src/importer/retry-policy.js';
import { GlobalRateLimiter } from '../../src/queue/global-rate-limiter.js';
import { importJobId } from '../../src/queue/import-queue.js';
import { buildReport } from '../../src/report/build-report.js';
import { verifyRun } from '../../src/report/verify-run.js';
import type { RecordEntry } from '../../src/run/record-entry.js';
import { limiterKey } from '../../src/run/run-keys.js';
import type { FileProgress } from '../../src/run/run-store.js';
import { MAX_PAGE_SIZE } from '../../src/sta/sta-client.js';
import type { GeneratedRecord } from '../../fixtures/export-generator.js';
import { BENCH_TENANT, peakRssMb, round, runBenchmark, spawnSimulator, type BenchContext, type Measurement } from './bench-kit.js';
import { benchIngestOptions, benchRecords, openRunSide, pacedStaClient, SILENT_LOGGER, type RunSide } from './bench-pipeline.js';

const RECORDS = 100_000;
const USERS = 20_000;
const MISSING_EVERY = 50;
const BATCH = 1000;
const SEED_CONCURRENCY = 16;
const VERIFY_CONCURRENCY = 16;
const RATE_PER_SECOND = 100_000;
const SEED = 71;
const HEAVY_USER_EVERY = 400;
const HEAVY_RECORD_SHARE = 0.02;

await runBenchmark('report-verify-100k', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 2_000);
  const users = context.scaled(USERS, 400);
  const simulator = await spawnSimulator(context);
  const prefix = context.prefix('bench-report');
  const side = await openRunSide(context, prefix);
  const runId = 'bench-report';

  const setupStarted = performance.now();
  const seededByUser = await writeRunAndSeed(context, side, simulator.url, runId, count, users);
  const seeded = [...seededByUser.values()].reduce((sum, k) => sum + k, 0);
  const expectedPages = [...seededByUser.values()].reduce((sum, k) => sum + Math.max(1, Math.ceil(k / MAX_PAGE_SIZE)), 0);
  context.log(`run written and simulator seeded (${seeded} of ${count}) in ${round((performance.now() - setupStarted) / 1000, 1)} s`);

  const limiter = new GlobalRateLimiter(side.redis, limiterKey(prefix), { perSecond: RATE_PER_SECOND });
  const sta = pacedStaClient(simulator.url, limiter, VERIFY_CONCURRENCY);
  context.defer(() => sta.close());
  const reportDir = await context.tempDir();
  const listBefore = (await simulator.stats()).requests.byOperation.list;
  let rssDuringMb = process.memoryUsage.rss() / 2 ** 20;
  const sampler = setInterval(() => {
    rssDuringMb = Math.max(rssDuringMb, process.memoryUsage.rss() / 2 ** 20);
  }, 100);
  context.defer(() => {
    clearInterval(sampler);
  });
  const started = performance.now();
  const report = await buildReport(
    {
      redis: side.redis,
      runStore: side.runStore,
      queue: side.queue,
      verify: (id) => verifyRun({ redis: side.redis, runStore: side.runStore, sta, holdFor: (ms) => limiter.holdFor(ms), concurrency: VERIFY_CONCURRENCY, logger: SILENT_LOGGER }, id),
      reportDir,
      now: () => new Date(),
    },
    runId,
  );
  const ms = performance.now() - started;
  clearInterval(sampler);
  const listCalls = (await simulator.stats()).requests.byOperation.list - listBefore;

  const { summary } = report;
  const problems: string[] = [];
  if (summary.total !== count || summary.imported !== count) problems.push(`summary total ${summary.total}, imported ${summary.imported}; expected ${count}`);
  if (summary.verified.present !== seeded || summary.verified.missing !== count - seeded || summary.verified.notChecked !== 0) {
    problems.push(`verified present ${summary.verified.present} / missing ${summary.verified.missing} / notChecked ${summary.verified.notChecked}; expected ${seeded} / ${count - seeded} / 0`);
  }
  if (report.verifyStats?.listCalls !== expectedPages) problems.push(`verifyRun counted ${String(report.verifyStats?.listCalls)} list calls`);
  if (listCalls !== expectedPages) problems.push(`STA saw ${listCalls} list calls, ${expectedPages} pages expected`);
  return {
    measured: `${listCalls} list calls = ${expectedPages} pages, ${round(ms / 1000, 1)} s`,
    value: listCalls,
    target: `list calls = pages expected; verified counts exact`,
    pass: problems.length === 0,
    figures: {
      records: count,
      users: seededByUser.size,
      'report + verify s': round(ms / 1000, 2),
      'records/s': Math.round((count / ms) * 1000),
      'STA list calls': listCalls,
      'list pages expected': expectedPages,
      'verified present / missing': `${summary.verified.present} / ${summary.verified.missing}`,
      'peak RSS MB during report (sampled)': round(rssDuringMb, 1),
      'peak RSS MB of the process (incl. set-up)': peakRssMb(),
      'set-up s (write run + seed STA, not timed)': round((started - setupStarted) / 1000, 1),
    },
    notes: problems,
  };
});

/** Writes the run's records and outcomes, and seeds STA; returns, per user, the authenticators STA holds. */
async function writeRunAndSeed(context: BenchContext, side: RunSide, simulatorUrl: string, runId: string, count: number, users: number): Promise<Map<string, number>> {
  const now = new Date();
  await side.runStore.ensureRun(runId, benchIngestOptions(runId).runOptions, now);
  const agent = new Agent({ connections: SEED_CONCURRENCY });
  context.defer(() => agent.close());
  const seededByUser = new Map<string, number>();
  const file: FileProgress = { name: 'bench.csv', path: 'bench.csv', sha256: 'bench', format: 'csv', bytes: 0, recordsCommitted: 0, done: false, startedAt: now.toISOString(), finishedAt: null };
  let batch: { record: GeneratedRecord; index: number }[] = [];
  let index = 0;
  const flush = async (done: boolean) => {
    const entries: RecordEntry[] = batch.map(({ record, index: i }) => ({
      source: `bench.csv:${i + 2}`,
      externalId: record.externalId,
      tenantCode: BENCH_TENANT,
      userId: record.userId,
      credentialId: record.credentialId,
      friendlyName: record.friendlyName,
      state: null,
      ingestOutcome: 'pending',
      message: null,
      warnings: [],
      jobId: importJobId(runId, BENCH_TENANT, record.userId, record.credentialId),
    }));
    const committed = index;
    await side.runStore.commitBatch(runId, { ...file, recordsCommitted: committed, done, finishedAt: done ? now.toISOString() : null }, entries, now);
    await Promise.all(
      entries.map((entry) =>
        side.runStore.recordOutcome(
          runId,
          {
            jobId: entry.jobId ?? '',
            outcome: { outcome: 'imported', httpStatus: 201, message: null, attempts: 1, staId: entry.credentialId, staState: 'pending', at: now.toISOString() },
            breakerCode: null,
            breakerThreshold: BREAKER_THRESHOLD,
          },
          now,
        ),
      ),
    );
    for (const { record } of batch) if (!seededByUser.has(record.userId)) seededByUser.set(record.userId, 0);
    const toSeed = batch.filter(({ index: i }) => i % MISSING_EVERY !== MISSING_EVERY - 1).map(({ record }) => record);
    let next = 0;
    await Promise.all(
      Array.from({ length: SEED_CONCURRENCY }, async () => {
        while (next < toSeed.length) {
          const record = toSeed[next] as GeneratedRecord;
          next += 1;
          await seed(agent, simulatorUrl, record);
          seededByUser.set(record.userId, (seededByUser.get(record.userId) ?? 0) + 1);
        }
      }),
    );
    batch = [];
  };
  for (const record of runRecords(count, users)) {
    batch.push({ record, index });
    index += 1;
    if (batch.length >= BATCH) await flush(index === count);
  }
  if (batch.length > 0) await flush(true);
  return seededByUser;
}

/**
 * `count` records over `users` users: most spread evenly (about 5 each at full size), and 2% of
 * the records on 1 user in 400, so that some users hold more than a page (20) and verification
 * has to walk their pages.
 */
function* runRecords(count: number, users: number): Generator<GeneratedRecord> {
  const heavyUsers = Math.max(2, Math.round(users / HEAVY_USER_EVERY));
  const heavyRecords = Math.max(heavyUsers * 2 * MAX_PAGE_SIZE, Math.round(count * HEAVY_RECORD_SHARE));
  yield* benchRecords(count - heavyRecords, users - heavyUsers, SEED);
  yield* benchRecords(heavyRecords, heavyUsers, SEED + 1);
}

async function seed(agent: Agent, simulatorUrl: string, record: GeneratedRecord): Promise<void> {
  const path = `/_sim/tenants/${BENCH_TENANT}/users/${encodeURIComponent(record.userId)}/authenticators`;
  const body = { type: 'FIDO', metadata: { attestation: { clientDataJson: record.clientDataJson, attestationObject: record.attestationObject }, friendlyName: record.friendlyName } };
  const response = await request(`${simulatorUrl}${path}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`seeding ${record.credentialId}: ${response.statusCode} ${text}`);
}
