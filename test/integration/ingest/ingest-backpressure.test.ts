import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateRecords, writeExport } from '../../../fixtures/export-generator.js';
import type { BackpressureEvent } from '../../../src/ingest/redis-ingest-sink.js';
import { IMPORT_QUEUE_NAME, type ImportJobData } from '../../../src/queue/import-queue.js';
import { REDIS_URL } from '../../helpers/redis.js';
import { IngestHarness, RP_ID } from './ingest-harness.js';

const RECORDS = 1000;
const MAX_WAITING = 100;

let harness: IngestHarness;
let dir = '';
let workerConnection: Redis | null = null;
let worker: Worker<ImportJobData> | null = null;

beforeEach(async () => {
  harness = new IngestHarness();
  dir = await mkdtemp(join(tmpdir(), 'ingest-backpressure-'));
});
afterEach(async () => {
  await worker?.close();
  worker = null;
  await workerConnection?.quit();
  workerConnection = null;
  await harness.close();
  await rm(dir, { recursive: true, force: true });
});

/** A slow no-op worker: ~3 ms per job, then the job's outcome into the run (so `pending` drains). */
function startSlowWorker(): Worker<ImportJobData> {
  workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const started = new Worker<ImportJobData>(
    IMPORT_QUEUE_NAME,
    async (job) => {
      await sleep(3);
      await harness.store.recordOutcome(
        job.data.runId,
        {
          jobId: job.id ?? '',
          outcome: { outcome: 'imported', httpStatus: 200, message: null, attempts: 1, staId: job.data.credentialId, staState: 'pending', at: new Date().toISOString() },
          breakerCode: null,
          breakerThreshold: 1_000_000,
        },
        new Date(),
      );
    },
    { connection: workerConnection, prefix: harness.prefix, concurrency: 2 },
  );
  return started;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('ingest backpressure', () => {
  it(`never lets more than --max-waiting (${MAX_WAITING}) jobs of the run wait while ${RECORDS} records stream in`, async () => {
    const path = join(dir, 'thousand.ndjson');
    await writeExport(generateRecords({ count: RECORDS, users: 40, seed: 77, rpId: RP_ID, keyReuse: 100 }), { format: 'ndjson', path });
    const runId = 'backpressure';
    worker = startSlowWorker();

    const events: BackpressureEvent[] = [];
    let ingesting = true;
    const samples: { pending: number; waiting: number }[] = [];
    const sampler = (async () => {
      while (ingesting) {
        const [counts, waiting] = await Promise.all([harness.store.getCounts(runId), harness.queue.getWaitingCount()]);
        samples.push({ pending: counts.pending, waiting });
        await sleep(2);
      }
    })();

    const totals = await harness
      .ingest([path], { runId, batchSize: 25, maxWaiting: MAX_WAITING, onBackpressure: (event) => events.push(event) })
      .finally(() => {
        ingesting = false;
      });
    await sampler;

    expect(totals).toMatchObject({ read: RECORDS, valid: RECORDS, invalid: 0, duplicate: 0 });
    // The sampler saw the queue fill, ingest paused on the mark, and neither count went above it.
    expect(samples.length).toBeGreaterThan(20);
    expect(Math.max(...samples.map((sample) => sample.waiting))).toBeGreaterThan(0);
    expect(events.filter((event) => event.kind === 'paused').length).toBeGreaterThan(0);
    expect(Math.max(...samples.map((sample) => sample.pending))).toBeLessThanOrEqual(MAX_WAITING);
    expect(Math.max(...samples.map((sample) => sample.waiting))).toBeLessThanOrEqual(MAX_WAITING);
    for (const event of events) expect(event.highWaterMark).toBe(MAX_WAITING);

    await waitFor(async () => (await harness.store.getCounts(runId)).pending === 0, 20_000, 'the worker to drain the run');
    expect(await harness.store.getCounts(runId)).toMatchObject({ total: RECORDS, enqueued: RECORDS, imported: RECORDS, pending: 0 });
  });
});
