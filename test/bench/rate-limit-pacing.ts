/**
 * rate-limit-pacing: does the global limiter use what STA allows without tripping it? The
 * simulator (own process) allows L = 50 requests per sliding second; in-process import workers
 * (concurrency 16, STA_RATE_LIMIT = 50, composed as `sta-migrate run` composes them) import
 * ~1500 records (≥ 30 s). Ingest happens first, so the measured window holds only STA traffic.
 *   achieved rate = (accepted requests − 1) / (last request sent − first request sent)
 * with the accepted count from the simulator's stats and send times from the client's call
 * events. Targets: rate ≥ 0.85·L and 429 answers ≤ 2% of requests.
 */
import { join } from 'node:path';
import type { StaCallEvent } from '../../src/sta/sta-client.js';
import { acceptedRequests, round, runBenchmark, spawnSimulator, type Measurement } from './bench-kit.js';
import { ingestRun, inspectFiles, openRunSide, startWorkerSide, waitForRun, writeBenchExport } from './bench-pipeline.js';

const LIMIT_PER_SECOND = 50;
const RECORDS = 1_500;
const CONCURRENCY = 16;
const MIN_RATE_FRACTION = 0.85;
const MAX_429_SHARE = 0.02;

await runBenchmark('rate-limit-pacing', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 100);
  const dir = await context.tempDir();
  const path = await writeBenchExport(join(dir, 'export.csv'), count, Math.max(1, Math.round(count / 3)), 41);
  const simulator = await spawnSimulator(context, { faults: { rateLimitPerSecond: LIMIT_PER_SECOND } });
  const prefix = context.prefix('bench-pace');
  const side = await openRunSide(context, prefix);
  const runId = 'bench-pace';
  await ingestRun(side, await inspectFiles([path]), runId, count + 1000);
  context.log(`ingested ${count} records; starting workers`);

  let firstSentAt = Number.POSITIVE_INFINITY;
  let lastSentAt = Number.NEGATIVE_INFINITY;
  const onCall = (event: StaCallEvent) => {
    const sentAt = performance.now() - event.latencyMs;
    firstSentAt = Math.min(firstSentAt, sentAt);
    lastSentAt = Math.max(lastSentAt, sentAt);
  };
  const started = performance.now();
  const workers = await startWorkerSide(context, side, { prefix, simulatorUrl: simulator.url, concurrency: CONCURRENCY, ratePerSecond: LIMIT_PER_SECOND, onCall });
  const counts = await waitForRun(side.runStore, runId, count, 60_000 + (count / LIMIT_PER_SECOND) * 3000, 100);
  const wallMs = performance.now() - started;
  await workers.close();
  const stats = await simulator.stats();

  const accepted = acceptedRequests(stats);
  const throttled = stats.requests.byStatus['429'] ?? 0;
  const spanSeconds = (lastSentAt - firstSentAt) / 1000;
  const rate = spanSeconds > 0 ? (accepted - 1) / spanSeconds : 0;
  const share429 = stats.requests.total > 0 ? throttled / stats.requests.total : 1;
  const imported = counts.imported + counts.alreadyImported;
  if (imported !== count) throw new Error(`only ${imported} of ${count} records were imported (failed ${counts.failed}, conflict ${counts.conflict})`);
  const pass = rate >= MIN_RATE_FRACTION * LIMIT_PER_SECOND && share429 <= MAX_429_SHARE;
  return {
    measured: `${round(rate, 1)} req/s, 429 ${round(share429 * 100, 2)}%`,
    value: round(rate / LIMIT_PER_SECOND, 3),
    target: `>= ${MIN_RATE_FRACTION * LIMIT_PER_SECOND} req/s, 429 <= ${MAX_429_SHARE * 100}%`,
    pass,
    figures: {
      'simulator limit (req/s, sliding 1 s)': LIMIT_PER_SECOND,
      records: count,
      'requests (total)': stats.requests.total,
      'accepted requests': accepted,
      '429 answers': throttled,
      'first to last request s': round(spanSeconds, 2),
      'achieved rate / limit': round(rate / LIMIT_PER_SECOND, 3),
      'worker start to last outcome s': round(wallMs / 1000, 2),
    },
    notes: [
      'the limiter spaces requests at 95% of STA_RATE_LIMIT (headroom for network jitter), so 0.95 is the ceiling',
      ...(count < RECORDS ? ['fewer than 1500 records: a shorter window; start-up weighs more'] : []),
    ],
  };
});
