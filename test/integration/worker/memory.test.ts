/**
 * A light leak check of the import worker: the JS heap after thousands of jobs, measured after a
 * full garbage collection, is what it was after warm-up. (The long RSS run of a real `work`
 * process is test/bench/worker-memory.ts.)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { simRequest } from '../../helpers/sim-http.js';
import { registration, RUN_ID, userId, WorkerHarness } from './harness.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const open: { sims: RunningSimulator[]; harnesses: WorkerHarness[] } = { sims: [], harnesses: [] };

afterEach(async () => {
  await Promise.all(open.harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(open.sims.splice(0).map((sim) => sim.close()));
});

const WARMUP_JOBS = 2500;
const MEASURED_JOBS = 2500;
/** A leak of one job payload (~1.5 KB) per job would add ~3.7 MB over MEASURED_JOBS. */
const MAX_HEAP_GROWTH_MB = 2.5;

describe('import worker memory', () => {
  it(`keeps the heap flat over ${MEASURED_JOBS} jobs after warm-up`, async () => {
    const sim = await startSimulator();
    open.sims.push(sim);
    const harness = await WorkerHarness.start({ simulatorUrl: sim.url, concurrency: 16, rateLimitPerSecond: 10_000, record: false });
    open.harnesses.push(harness);

    let enqueued = 0;
    const runJobs = async (count: number): Promise<void> => {
      for (let batch = 0; batch < count; batch += 500) {
        const size = Math.min(500, count - batch);
        await harness.enqueue(Array.from({ length: size }, (_, index) => ({ userId: userId(`mem-${(enqueued + index) % 200}`), registration: registration('none') })));
        enqueued += size;
        // Keep at most one batch waiting, as ingest's backpressure would.
        await harness.waitForOutcomes(enqueued - 500, 60_000);
      }
      await harness.waitForOutcomes(enqueued, 60_000);
      // What the simulator keeps (every authenticator) lives in this process too: drop it.
      await simRequest(sim.url, '/_sim/reset', { method: 'POST' });
    };
    const heapMb = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed / 1024 / 1024;
    };

    await runJobs(WARMUP_JOBS);
    const before = heapMb();
    await runJobs(MEASURED_JOBS);
    const after = heapMb();

    expect((await harness.runStore.getCounts(RUN_ID)).imported).toBe(WARMUP_JOBS + MEASURED_JOBS);
    console.info(`heap after warm-up ${before.toFixed(1)} MB, after ${MEASURED_JOBS} more jobs ${after.toFixed(1)} MB`);
    expect(after - before).toBeLessThan(MAX_HEAP_GROWTH_MB);
  }, 90_000);
});
