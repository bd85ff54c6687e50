import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import { TRANSPORT_RETRIES } from '../../../src/importer/retry-policy.js';
import { DEFAULT_ATTEMPTS } from '../../../src/queue/import-queue.js';
import { authenticatorsPath, createBody, simRequest } from '../../helpers/sim-http.js';
import { registration, RUN_ID, TENANT, userId, WorkerHarness, type HarnessOptions } from './harness.js';

const ALICE = userId('alice');
const BOB = userId('bob');

const open: { sims: RunningSimulator[]; harnesses: WorkerHarness[] } = { sims: [], harnesses: [] };

afterEach(async () => {
  await Promise.all(open.harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(open.sims.splice(0).map((sim) => sim.close()));
});

async function setup(simOptions: SimulatorOptions = {}, options: Omit<HarnessOptions, 'simulatorUrl'> = {}): Promise<{ sim: RunningSimulator; harness: WorkerHarness }> {
  const sim = await startSimulator(simOptions);
  open.sims.push(sim);
  const harness = await WorkerHarness.start({ simulatorUrl: sim.url, ...options });
  open.harnesses.push(harness);
  return { sim, harness };
}

/** Registers a credential in the simulator directly (as if imported earlier). */
async function seed(sim: RunningSimulator, user: string, reg: ReturnType<typeof registration>): Promise<void> {
  const reply = await simRequest(sim.url, `/_sim${authenticatorsPath(TENANT, user).slice('/api/v1'.length)}`, { method: 'POST', body: createBody(reg) });
  expect(reply.status).toBe(200);
}

/** A `random` that returns the given values in turn, then `rest` forever. */
function sequence(values: readonly number[], rest: number): () => number {
  let index = 0;
  return () => values[index++] ?? rest;
}

describe('409 from STA', () => {
  it('treats 409 on the same user as already-imported (a look-up on that user finds it)', async () => {
    const { sim, harness } = await setup();
    const reg = registration();
    await seed(sim, ALICE, reg);
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE, registration: reg }]);
    await harness.waitForOutcomes(1);

    expect(await harness.outcome(jobId)).toMatchObject({
      outcome: 'already-imported',
      httpStatus: 409,
      message: STA_MESSAGES.alreadyInUse,
      staId: reg.credentialId,
      attempts: 1,
    });
    expect(harness.calls.map((call) => [call.operation, call.status])).toEqual([
      ['create', 409],
      ['get', 200],
    ]);
    expect(sim.authenticators(TENANT)).toHaveLength(1);
  });

  it('treats 409 when another user of the tenant holds the credential as conflict', async () => {
    const { sim, harness } = await setup();
    const reg = registration();
    await seed(sim, BOB, reg);
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE, registration: reg }]);
    await harness.waitForOutcomes(1);

    const outcome = await harness.outcome(jobId);
    expect(outcome).toMatchObject({ outcome: 'conflict', httpStatus: 409, staId: null });
    expect(outcome.message).toContain(STA_MESSAGES.alreadyInUse);
    expect(outcome.message).toContain('another user');
    expect(sim.authenticators(TENANT).map((authenticator) => authenticator.userId)).toEqual([BOB]);
  });
});

describe('permanent failures', () => {
  it('fails a job for an unknown user with STA 404 and its message, after one attempt, and keeps it in the failed set', async () => {
    const { harness } = await setup({ users: [BOB] });
    const [failedId = '', importedId = ''] = await harness.enqueue([{ userId: ALICE }, { userId: BOB }]);
    await harness.waitForOutcomes(2);

    expect(await harness.outcome(failedId)).toMatchObject({
      outcome: 'failed',
      httpStatus: 404,
      message: staMessage.userNotFound('base64', ALICE),
      attempts: 1,
    });
    expect(harness.calls.filter((call) => call.userId === ALICE)).toHaveLength(1);
    // Failed jobs stay for `retry` and the dashboard, STA's message as their reason …
    await expect.poll(() => harness.queue.getJobState(failedId)).toBe('failed');
    const failedJob = await harness.queue.getJob(failedId);
    expect(failedJob?.attemptsMade).toBe(1);
    expect(failedJob?.failedReason).toBe(staMessage.userNotFound('base64', ALICE));
    // … completed ones are removed: the ledger has their outcome.
    expect((await harness.outcome(importedId)).outcome).toBe('imported');
    await expect.poll(() => harness.queue.getJob(importedId)).toBeUndefined();
  });

  it('fails a job STA answers 400 without retrying it', async () => {
    const { sim, harness } = await setup();
    await simRequest(sim.url, '/_sim/inject', { method: 'POST', body: { operation: 'create', status: 400, message: STA_MESSAGES.attestationObjectNotBase64Url } });
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE }]);
    await harness.waitForOutcomes(1);

    expect(await harness.outcome(jobId)).toMatchObject({ outcome: 'failed', httpStatus: 400, message: STA_MESSAGES.attestationObjectNotBase64Url, attempts: 1 });
    expect(harness.callsOf('create')).toHaveLength(1);
    expect(sim.authenticators(TENANT)).toHaveLength(0);
  });
});

describe('transient failures', () => {
  it('retries a 500 with the next BullMQ attempt after the backoff delay, and imports', async () => {
    // Backoff ceiling 400 ms; random 0.5 → equal jitter gives 200 + 200·0.5 = 300 ms.
    const { sim, harness } = await setup({}, { backoff: { baseMs: 400, maxMs: 400 }, random: () => 0.5 });
    await simRequest(sim.url, '/_sim/inject', { method: 'POST', body: { operation: 'create', status: 500, message: STA_MESSAGES.internalServerError } });
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE }]);
    await harness.waitForOutcomes(1);

    expect(await harness.outcome(jobId)).toMatchObject({ outcome: 'imported', httpStatus: 200, attempts: 2 });
    const [first, second, ...rest] = harness.callsOf('create');
    expect(rest).toEqual([]);
    expect(first?.status).toBe(500);
    expect(second?.status).toBe(200);
    // A 5xx is not a transport failure: no quick p-retry; the next try waits for BullMQ's backoff.
    expect((second?.sentAtMs ?? 0) - (first?.endedAtMs ?? 0)).toBeGreaterThanOrEqual(295);
    expect(harness.activations.filter((activation) => activation.jobId === jobId).map((activation) => activation.attemptsMade)).toEqual([0, 1]);
    expect(sim.authenticators(TENANT)).toHaveLength(1);
  });

  it('counts a POST whose connection dropped after STA stored it as imported, exactly once', async () => {
    // First draw drops the first request after processing it; every later request is answered.
    const { sim, harness } = await setup({ faults: { dropRate: 0.5, dropMode: 'after' }, random: sequence([0], 0.99) });
    const reg = registration();
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE, registration: reg }]);
    await harness.waitForOutcomes(1);

    const outcome = await harness.outcome(jobId);
    expect(outcome).toMatchObject({ outcome: 'imported', httpStatus: 409, staId: reg.credentialId, attempts: 1 });
    expect(outcome.message).toContain('earlier, interrupted try');
    // The quick transport retry (p-retry, same BullMQ attempt) re-sent it and met its own import.
    expect(harness.calls.map((call) => [call.operation, call.status])).toEqual([
      ['create', null],
      ['create', 409],
      ['get', 200],
    ]);
    expect(sim.authenticators(TENANT).map((authenticator) => authenticator.id)).toEqual([reg.credentialId]);
  });

  it('makes at most 1 + TRANSPORT_RETRIES + (attempts − 1) requests for a job whose requests never arrive, then fails it', async () => {
    const { sim, harness } = await setup({ faults: { dropRate: 1, dropMode: 'before' } }, { backoff: { baseMs: 50, maxMs: 100 } });
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE }]);
    await harness.waitForOutcomes(1);

    const outcome = await harness.outcome(jobId);
    expect(outcome).toMatchObject({ outcome: 'failed', httpStatus: null, attempts: DEFAULT_ATTEMPTS });
    expect(outcome.message).toContain(`after ${DEFAULT_ATTEMPTS} attempts`);
    expect(harness.callsOf('create')).toHaveLength(1 + TRANSPORT_RETRIES + DEFAULT_ATTEMPTS - 1);
    expect(sim.stats().requests.byStatus).toEqual({ dropped: 1 + TRANSPORT_RETRIES + DEFAULT_ATTEMPTS - 1 });
    // p-retry only inside the first BullMQ attempt: one activation per attempt, no more.
    expect(harness.activations.map((activation) => activation.attemptsMade)).toEqual([0, 1, 2, 3, 4, 5]);
    await expect.poll(() => harness.queue.getJobState(jobId)).toBe('failed');
  });

  it('writes a failed outcome when the last attempt fails outside STA, so the run does not wait for it forever', async () => {
    const { sim, harness } = await setup({}, { backoff: { baseMs: 20, maxMs: 40 }, failBeforeRequest: 'limiter unavailable (Redis down)' });
    const [jobId = ''] = await harness.enqueue([{ userId: ALICE }]);
    await harness.waitForOutcomes(1);

    const outcome = await harness.outcome(jobId);
    expect(outcome).toMatchObject({ outcome: 'failed', httpStatus: null, attempts: DEFAULT_ATTEMPTS });
    expect(outcome.message).toBe('Failed outside STA: limiter unavailable (Redis down)');
    expect(sim.stats().requests.total).toBe(0);
    expect((await harness.runStore.getCounts(RUN_ID)).pending).toBe(0);
    await expect.poll(() => harness.queue.getJobState(jobId)).toBe('failed');
  });
});
