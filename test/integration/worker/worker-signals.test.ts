/**
 * `sta-migrate work` processes stopped from outside: SIGKILL (their jobs go to another worker;
 * re-sending is harmless) and SIGTERM (in-flight jobs finish, exit 0). Needs `npm run build`.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { isSuccess } from '../../../src/run/outcome.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { RUN_ID, startWorkProcess, TENANT, userId, waitUntil, WorkerHarness, type WorkProcess } from './harness.js';

const open: { sims: RunningSimulator[]; harnesses: WorkerHarness[]; works: WorkProcess[] } = { sims: [], harnesses: [], works: [] };

afterEach(async () => {
  for (const work of open.works.splice(0)) {
    if (work.child.exitCode === null && work.child.signalCode === null) work.child.kill('SIGKILL');
    await work.result;
  }
  await Promise.all(open.harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(open.sims.splice(0).map((sim) => sim.close()));
});

async function setup(latencyMs: number): Promise<{ sim: RunningSimulator; harness: WorkerHarness }> {
  // Latency keeps requests in flight long enough for a signal to land in the middle of some.
  const sim = await startSimulator({ faults: { latencyMs } });
  open.sims.push(sim);
  const harness = await WorkerHarness.start({ simulatorUrl: sim.url, startWorker: false });
  open.harnesses.push(harness);
  return { sim, harness };
}

async function work(harness: WorkerHarness, sim: RunningSimulator, args: readonly string[] = []): Promise<WorkProcess> {
  const started = await startWorkProcess({ prefix: harness.prefix, simulatorUrl: sim.url, rateLimitPerSecond: 1000, concurrency: 8, args });
  open.works.push(started);
  return started;
}

/** Waits until `read()` has not changed for `quietMs`. */
async function waitUntilStable(read: () => number, quietMs: number, timeoutMs: number): Promise<void> {
  let value = read();
  let since = performance.now();
  await waitUntil(
    () => {
      const current = read();
      if (current !== value) [value, since] = [current, performance.now()];
      return performance.now() - since >= quietMs;
    },
    timeoutMs,
    'the simulator to settle',
  );
}

async function outcomeCount(harness: WorkerHarness): Promise<number> {
  return harness.redis.hlen(harness.runStore.keys(RUN_ID).outcomes);
}

describe('a work process killed with SIGKILL', () => {
  it('leaves its jobs to another worker: every record ends imported, and STA holds each exactly once', async () => {
    const latencyMs = 150;
    const { sim, harness } = await setup(latencyMs);
    const jobs = 120;
    const jobIds = await harness.enqueue(Array.from({ length: jobs }, (_, index) => ({ userId: userId(`killed-${index}`) })));
    // A short lock: a dead worker's jobs are seen as stalled after about a second, not 30.
    const lockArgs = ['--lock-duration-ms', '1000'];
    const victim = await work(harness, sim, lockArgs);
    await waitUntil(async () => (await outcomeCount(harness)) >= 10, 20_000, 'the first outcomes');
    // Freeze it first: STA answers (and stores) the POSTs already sent, the worker never learns
    // it. Then kill it: those imports happened, but no outcome was recorded. On a loaded machine
    // the freeze can land while no request is in flight: then thaw it briefly and freeze again.
    let interrupted = 0;
    for (let tries = 0; tries < 20 && interrupted === 0; tries += 1) {
      victim.child.kill('SIGSTOP');
      await waitUntilStable(() => sim.authenticators(TENANT).length, 2 * latencyMs, 10_000);
      interrupted = sim.authenticators(TENANT).length - (await outcomeCount(harness));
      if (interrupted === 0) {
        victim.child.kill('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 20 + tries * 10));
      }
    }
    victim.child.kill('SIGKILL');
    expect((await victim.result).signal).toBe('SIGKILL');
    expect(interrupted).toBeGreaterThan(0);
    expect(await harness.queue.getActiveCount()).toBeGreaterThan(0);

    await work(harness, sim, lockArgs);
    await harness.waitForOutcomes(jobs, 45_000);

    const outcomes = await harness.outcomes(jobIds);
    expect(outcomes.filter((outcome) => !outcome || !isSuccess(outcome.outcome))).toEqual([]);
    // The simulator holds exactly one authenticator per record: nothing lost, nothing doubled.
    const stored = sim.authenticators(TENANT);
    expect(stored).toHaveLength(jobs);
    expect(new Set(stored.map((authenticator) => authenticator.id)).size).toBe(jobs);
    // The re-sent POSTs STA had already stored met their own import (409) and count as imported
    // (so do jobs killed between their ledger write and BullMQ's completion: re-run, same answer).
    const reSent = outcomes.filter((outcome) => outcome?.httpStatus === 409);
    expect(reSent.length).toBeGreaterThanOrEqual(interrupted);
    for (const outcome of reSent) expect(outcome).toMatchObject({ outcome: 'imported', attempts: 2 });
    // (The ledger is written just before BullMQ completes a job.)
    await expect.poll(() => harness.queue.getActiveCount()).toBe(0);
  });
});

describe('a work process stopped with SIGTERM', () => {
  it('lets in-flight jobs finish, starts no new ones, and exits 0', async () => {
    const { sim, harness } = await setup(300);
    const jobs = 60;
    await harness.enqueue(Array.from({ length: jobs }, (_, index) => ({ userId: userId(`stopped-${index}`) })));
    const worker = await work(harness, sim);
    await waitUntil(async () => (await outcomeCount(harness)) >= 8, 20_000, 'the first outcomes');
    worker.child.kill('SIGTERM');
    const result = await worker.result;

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('worker stopped cleanly');
    // Every request that was sent finished and was recorded: STA holds exactly what the ledger says.
    const recorded = await outcomeCount(harness);
    expect(sim.authenticators(TENANT)).toHaveLength(recorded);
    expect(recorded).toBeLessThan(jobs);
    // No job is left locked by the stopped worker; the rest wait for the next one.
    expect(await harness.queue.getActiveCount()).toBe(0);
    expect(await harness.queue.getWaitingCount()).toBe(jobs - recorded);
  });
});

describe('a work process whose in-flight requests outlast --shutdown-timeout', () => {
  it('puts those jobs back in the queue without spending an attempt, and exits 0 soon after the timeout', async () => {
    const { sim, harness } = await setup(8000);
    const jobs = 6;
    const jobIds = await harness.enqueue(Array.from({ length: jobs }, (_, index) => ({ userId: userId(`slow-${index}`) })));
    const worker = await work(harness, sim, ['--shutdown-timeout', '500']);
    await waitUntil(async () => (await harness.queue.getActiveCount()) === jobs, 20_000, 'every job to be in flight');
    const signalledAt = performance.now();
    worker.child.kill('SIGTERM');
    const result = await worker.result;
    const exitMs = performance.now() - signalledAt;

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('shutdown timeout');
    // STA answers after 8 s; the worker left after the 500 ms it was given (plus closing).
    expect(exitMs).toBeLessThan(4000);
    expect(await harness.queue.getActiveCount()).toBe(0);
    const waiting = await harness.queue.getJobs(['wait']);
    expect(waiting.map((job) => job.id).sort()).toEqual([...jobIds].sort());
    expect(waiting.map((job) => job.attemptsMade)).toEqual(waiting.map(() => 0));
    expect(await outcomeCount(harness)).toBe(0);

    // The next worker imports them, each once.
    sim.setFaults({ latencyMs: 0 });
    await work(harness, sim);
    await harness.waitForOutcomes(jobs, 20_000);
    expect((await harness.outcomes(jobIds)).filter((outcome) => !outcome || !isSuccess(outcome.outcome))).toEqual([]);
    expect(sim.authenticators(TENANT)).toHaveLength(jobs);
  });
});
