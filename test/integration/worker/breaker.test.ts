import { afterEach, describe, expect, it } from 'vitest';
import { BREAKER_THRESHOLD } from '../../../src/importer/retry-policy.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { STA_MESSAGES } from '../../../src/sta/documented-messages.js';
import { RUN_ID, TENANT, userId, waitUntil, WorkerHarness, type HarnessOptions } from './harness.js';

const open: { sims: RunningSimulator[]; harnesses: WorkerHarness[] } = { sims: [], harnesses: [] };

afterEach(async () => {
  await Promise.all(open.harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(open.sims.splice(0).map((sim) => sim.close()));
});

const JOBS = 200;
const CONCURRENCY = 4;

async function setup(simOptions: SimulatorOptions, options: Omit<HarnessOptions, 'simulatorUrl'> = {}): Promise<{ sim: RunningSimulator; harness: WorkerHarness }> {
  const sim = await startSimulator(simOptions);
  open.sims.push(sim);
  // Jobs are queued before the worker starts, so the trip happens with a full queue behind it.
  const harness = await WorkerHarness.start({ simulatorUrl: sim.url, concurrency: CONCURRENCY, startWorker: false, ...options });
  open.harnesses.push(harness);
  return { sim, harness };
}

/** Runs JOBS jobs into a tenant-wide failure and returns what the trip left behind. */
async function runUntilTripped(harness: WorkerHarness): Promise<{ failed: number; left: number; reason: string | null }> {
  const users = Array.from({ length: JOBS }, (_, index) => ({ userId: userId(`breaker-${index}`) }));
  await harness.enqueue(users);
  harness.startWorker();
  await waitUntil(async () => (await harness.runStore.getBreaker()).tripped, 20_000, 'the breaker to trip');
  // Jobs in flight when it tripped finish; then nothing more starts.
  await waitUntil(async () => (await harness.queue.getActiveCount()) === 0, 20_000, 'in-flight jobs to finish');
  const counts = await harness.runStore.getCounts(RUN_ID);
  const queued = await harness.queue.getJobCounts('wait', 'delayed', 'prioritized');
  const manifest = await harness.runStore.getManifest(RUN_ID);
  return { failed: counts.failed, left: Object.values(queued).reduce((sum, n) => sum + n, 0), reason: manifest?.abortedReason ?? null };
}

describe('circuit breaker', () => {
  it('stops the run after BREAKER_THRESHOLD "import disabled" answers instead of failing every job', async () => {
    const { sim, harness } = await setup({ tenants: [{ code: TENANT, importDisabled: true }] });
    const { failed, left, reason } = await runUntilTripped(harness);

    expect(reason).toBe(`tenant ‘${TENANT}’: ${STA_MESSAGES.importDisabled}`);
    expect(await harness.queue.isPaused()).toBe(true);
    expect(failed).toBeGreaterThanOrEqual(BREAKER_THRESHOLD);
    // Only jobs whose answer came before the trip are failed; later ones go back to the queue.
    expect(failed).toBeLessThanOrEqual(BREAKER_THRESHOLD + CONCURRENCY);
    expect(failed + left).toBe(JOBS);
    expect(Object.keys(sim.stats().requests.byStatus)).toEqual(['403']);
    const breaker = await harness.runStore.getBreaker();
    expect(breaker).toMatchObject({ tripped: true, code: 'import-disabled', reason: `tenant ‘${TENANT}’: ${STA_MESSAGES.importDisabled}` });
  });

  it('stops the run after BREAKER_THRESHOLD 401s for a bad API key', async () => {
    const { sim, harness } = await setup({}, { apiKey: 'not-the-key' });
    const { failed, left, reason } = await runUntilTripped(harness);

    expect(reason).toBe(`tenant ‘${TENANT}’: ${STA_MESSAGES.invalidCredentials}`);
    expect(await harness.queue.isPaused()).toBe(true);
    expect(failed).toBeGreaterThanOrEqual(BREAKER_THRESHOLD);
    expect(failed).toBeLessThanOrEqual(BREAKER_THRESHOLD + CONCURRENCY);
    expect(failed + left).toBe(JOBS);
    expect(Object.keys(sim.stats().requests.byStatus)).toEqual(['401']);
    expect((await harness.runStore.getBreaker()).code).toBe('invalid-credentials');
  });

  it('does not trip on per-record failures, however many', async () => {
    const { harness } = await setup({ users: [] });
    const jobIds = await harness.enqueue(Array.from({ length: 3 * BREAKER_THRESHOLD }, (_, index) => ({ userId: userId(`missing-${index}`) })));
    harness.startWorker();
    await harness.waitForOutcomes(jobIds.length);

    expect((await harness.runStore.getCounts(RUN_ID)).failed).toBe(jobIds.length);
    expect((await harness.runStore.getBreaker()).tripped).toBe(false);
    expect(await harness.queue.isPaused()).toBe(false);
    expect((await harness.runStore.getManifest(RUN_ID))?.abortedReason).toBeNull();
  });
});
