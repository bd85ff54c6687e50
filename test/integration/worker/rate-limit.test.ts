import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { TENANT, userId, WorkerHarness, type HarnessOptions } from './harness.js';

const open: { sims: RunningSimulator[]; harnesses: WorkerHarness[] } = { sims: [], harnesses: [] };

afterEach(async () => {
  await Promise.all(open.harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(open.sims.splice(0).map((sim) => sim.close()));
});

async function setup(simOptions: SimulatorOptions, options: Omit<HarnessOptions, 'simulatorUrl'>): Promise<{ sim: RunningSimulator; harness: WorkerHarness }> {
  const sim = await startSimulator(simOptions);
  open.sims.push(sim);
  const harness = await WorkerHarness.start({ simulatorUrl: sim.url, ...options });
  open.harnesses.push(harness);
  return { sim, harness };
}

/** Slack for timer and clock granularity when checking that nothing was sent during a hold. */
const TIMER_SLACK_MS = 50;

describe('429 from STA', () => {
  it('holds every job for Retry-After after a 429, without spending an attempt of the throttled job', async () => {
    // The worker is configured for 4/s but STA allows 2/s: the third request gets 429 and
    // Retry-After: 1 (s). Requests leave 250+ ms apart, so the jobs still waiting for their slot
    // when the 429 arrives hold reservations that fall inside the hold.
    const { sim, harness } = await setup({ faults: { rateLimitPerSecond: 2 } }, { rateLimitPerSecond: 4, concurrency: 4 });
    const users = Array.from({ length: 6 }, (_, index) => userId(`throttled-${index}`));
    const jobIds = await harness.enqueue(users.map((user) => ({ userId: user })));
    await harness.waitForOutcomes(jobIds.length, 30_000);

    const outcomes = await harness.outcomes(jobIds);
    expect(outcomes.map((outcome) => outcome?.outcome)).toEqual(jobIds.map(() => 'imported'));
    expect(sim.authenticators(TENANT)).toHaveLength(jobIds.length);

    const throttled = harness.calls.filter((call) => call.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    for (const answer of throttled) {
      // Nothing leaves during the hold: every request was either already on its way when the 429
      // arrived, or leaves after Retry-After (1000 ms).
      const sentDuringHold = harness.calls.filter(
        (call) => call.sentAtMs > answer.endedAtMs && call.sentAtMs < answer.endedAtMs + 1000 - TIMER_SLACK_MS,
      );
      expect(sentDuringHold).toEqual([]);
    }
    // The first request after the first hold leaves soon after it ends (the hold is not stretched).
    const [first] = throttled;
    const next = harness.calls.find((call) => first !== undefined && call.sentAtMs > first.endedAtMs);
    expect(next).toBeDefined();
    expect((next?.sentAtMs ?? 0) - (first?.endedAtMs ?? 0)).toBeLessThan(1000 + 1500);

    // A 429 re-delivers the job without spending an attempt: attemptsMade stays 0 on every start.
    const throttledJobs = new Set(throttled.map((call) => jobIds[users.indexOf(call.userId)]));
    for (const jobId of throttledJobs) {
      const starts = harness.activations.filter((activation) => activation.jobId === jobId);
      expect(starts.length).toBeGreaterThanOrEqual(2);
      expect(starts.map((start) => start.attemptsMade)).toEqual(starts.map(() => 0));
    }
  });

  it('gives a job up as failed once it was started maxStartedAttempts times, all throttled', async () => {
    // A frozen clock keeps the simulator's window full forever: every request after the first gets 429.
    const frozen = new Date('2025-01-01T00:00:00.000Z');
    const { sim, harness } = await setup({ faults: { rateLimitPerSecond: 1 }, now: () => frozen }, { maxStartedAttempts: 3, concurrency: 1 });
    const [firstId = '', throttledId = ''] = await harness.enqueue([{ userId: userId('first') }, { userId: userId('throttled') }]);
    await harness.waitForOutcomes(2, 20_000);

    expect((await harness.outcome(firstId)).outcome).toBe('imported');
    const outcome = await harness.outcome(throttledId);
    expect(outcome).toMatchObject({ outcome: 'failed', httpStatus: null, attempts: 4 });
    expect(outcome.message).toContain('Gave up after 3 starts');
    // Three starts reached STA (each answered 429); the fourth gave up without a request.
    expect(harness.calls.filter((call) => call.status === 429)).toHaveLength(3);
    expect(sim.authenticators(TENANT)).toHaveLength(1);
    await expect.poll(() => harness.queue.getJobState(throttledId)).toBe('failed');
  });
});
