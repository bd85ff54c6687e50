import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { STA_MESSAGES } from '../../../src/sta/documented-messages.js';
import { authenticatorsPath, base64UserId, createBody, messageOf, newRegistration, simRequest } from '../../helpers/sim-http.js';

const USER = base64UserId('fault-user');
const LIST = authenticatorsPath('DEMO', USER);
const keyPair = generateCredentialKeyPair();

const running: RunningSimulator[] = [];
async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator(options);
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

/** A clock the test moves by hand: the rate-limit window without sleeping. */
function manualClock(): { now: () => Date; advanceMs: (ms: number) => void } {
  let nowMs = Date.parse('2025-01-01T00:00:00.000Z');
  return { now: () => new Date(nowMs), advanceMs: (ms) => (nowMs += ms) };
}

describe('rate limit', () => {
  it('answers 429 with Retry-After once the sliding 1000 ms window is full, and not-counted rejections', async () => {
    const clock = manualClock();
    const sim = await simulator({ faults: { rateLimitPerSecond: 3 }, now: clock.now });
    for (let index = 0; index < 3; index += 1) {
      expect((await simRequest(sim.url, LIST)).status).toBe(200);
      clock.advanceMs(100);
    }
    // Window holds t=0,100,200; now t=300.
    const limited = await simRequest(sim.url, LIST);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.json).toEqual({ status: 429, message: 'Too Many Requests' });

    clock.advanceMs(699); // t=999: the oldest (t=0) is still inside the window
    expect((await simRequest(sim.url, LIST)).status).toBe(429);
    clock.advanceMs(1); // t=1000: it left; the two rejections did not take its place
    expect((await simRequest(sim.url, LIST)).status).toBe(200);
    expect((await simRequest(sim.url, LIST)).status).toBe(429);
    clock.advanceMs(100); // t=1100: t=100 left
    expect((await simRequest(sim.url, LIST)).status).toBe(200);

    expect(sim.stats().requests.byStatus).toEqual({ '200': 5, '429': 3 });
  });

  it('frees the window after the Retry-After the client was given (real clock)', async () => {
    const sim = await simulator({ faults: { rateLimitPerSecond: 2 } });
    expect((await simRequest(sim.url, LIST)).status).toBe(200);
    expect((await simRequest(sim.url, LIST)).status).toBe(200);
    const limited = await simRequest(sim.url, LIST);
    expect(limited.status).toBe(429);
    const retryAfterSeconds = Number(limited.headers.get('retry-after'));
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await sleep(retryAfterSeconds * 1000);
    expect((await simRequest(sim.url, LIST)).status).toBe(200);
  });

  it('counts every operation and applies before authentication (a gateway in front of STA)', async () => {
    const clock = manualClock();
    const sim = await simulator({ faults: { rateLimitPerSecond: 2 }, now: clock.now });
    expect((await simRequest(sim.url, LIST, { apiKey: null })).status).toBe(401);
    expect((await simRequest(sim.url, LIST, { method: 'POST', body: createBody(newRegistration(keyPair)) })).status).toBe(200);
    expect((await simRequest(sim.url, LIST, { apiKey: null })).status).toBe(429);
    sim.setFaults({ rateLimitPerSecond: null });
    expect((await simRequest(sim.url, LIST)).status).toBe(200);
  });
});

describe('latency', () => {
  it('delays every API answer by at least latencyMs', async () => {
    const sim = await simulator({ faults: { latencyMs: 120 } });
    const startedMs = performance.now();
    const reply = await simRequest(sim.url, LIST);
    const elapsedMs = performance.now() - startedMs;
    expect(reply.status).toBe(200);
    expect(elapsedMs).toBeGreaterThanOrEqual(120);

    sim.setFaults({ latencyMs: 0 });
    const quickStartMs = performance.now();
    await simRequest(sim.url, LIST);
    expect(performance.now() - quickStartMs).toBeLessThan(120);
  });

  it('does not delay the control endpoints', async () => {
    const sim = await simulator({ faults: { latencyMs: 5_000 } });
    const startedMs = performance.now();
    expect((await simRequest(sim.url, '/_sim/stats', { apiKey: null })).status).toBe(200);
    expect(performance.now() - startedMs).toBeLessThan(2_000);
  });
});

describe('random 5xx', () => {
  it('answers 500 "Internal Server Error." with faultRate 1 and stores nothing', async () => {
    const sim = await simulator({ faults: { faultRate: 1 } });
    const reply = await simRequest(sim.url, LIST, { method: 'POST', body: createBody(newRegistration(keyPair)) });
    expect(reply.status).toBe(500);
    expect(messageOf(reply)).toBe(STA_MESSAGES.internalServerError);
    expect(sim.authenticators('DEMO')).toEqual([]);
    // Control routes are never faulted.
    expect((await simRequest(sim.url, '/_sim/stats', { apiKey: null })).status).toBe(200);
  });

  it('draws from the injected random: below faultRate fails, above passes', async () => {
    const draws = [0.2, 0.8, 0.49, 0.5];
    const sim = await simulator({ faults: { faultRate: 0.5 }, random: () => draws.shift() ?? 1 });
    const statuses: number[] = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await simRequest(sim.url, LIST)).status);
    expect(statuses).toEqual([500, 200, 500, 200]);
  });
});

describe('dropped connections', () => {
  it("dropMode 'after' stores the POST although the client sees a socket error; the retry gets 409", async () => {
    const sim = await simulator({ faults: { dropRate: 1, dropMode: 'after' } });
    const registration = newRegistration(keyPair);
    await expect(simRequest(sim.url, LIST, { method: 'POST', body: createBody(registration) })).rejects.toThrow();
    expect(sim.authenticators('DEMO').map((item) => item.id)).toEqual([registration.credentialId]);

    sim.setFaults({ dropRate: 0 });
    const retry = await simRequest(sim.url, LIST, { method: 'POST', body: createBody(registration) });
    expect(retry.status).toBe(409);
    expect(messageOf(retry)).toBe(STA_MESSAGES.alreadyInUse);
    expect(sim.stats().requests.byStatus).toEqual({ dropped: 1, '409': 1 });
  });

  it("dropMode 'before' stores nothing", async () => {
    const sim = await simulator({ faults: { dropRate: 1, dropMode: 'before' } });
    await expect(simRequest(sim.url, LIST, { method: 'POST', body: createBody(newRegistration(keyPair)) })).rejects.toThrow();
    expect(sim.authenticators('DEMO')).toEqual([]);
    expect(sim.stats().requests).toMatchObject({ total: 1, byStatus: { dropped: 1 }, byOperation: { create: 1 } });
  });

  it('drops with the injected random only when the draw is below dropRate', async () => {
    const draws = [0.9, 0.1];
    const sim = await simulator({ faults: { dropRate: 0.5, dropMode: 'before' }, random: () => draws.shift() ?? 1 });
    expect((await simRequest(sim.url, LIST)).status).toBe(200);
    await expect(simRequest(sim.url, LIST)).rejects.toThrow();
  });
});

describe('stats', () => {
  it('counts API requests by status and operation, and POST /_sim/reset clears them', async () => {
    const sim = await simulator();
    await simRequest(sim.url, LIST, { method: 'POST', body: createBody(newRegistration(keyPair)) });
    await simRequest(sim.url, LIST);
    await simRequest(sim.url, LIST, { apiKey: 'wrong' });
    await simRequest(sim.url, authenticatorsPath('DEMO', USER, 'AAAA'));
    await simRequest(sim.url, '/api/v2/unknown');
    const stats = (await simRequest(sim.url, '/_sim/stats', { apiKey: null })).json;
    expect(stats).toEqual({
      requests: { total: 5, byStatus: { '200': 2, '401': 1, '404': 2 }, byOperation: { list: 2, create: 1, get: 1, delete: 0, update: 0 } },
      authenticators: 1,
    });
    expect(sim.stats()).toEqual(stats);

    expect((await simRequest(sim.url, '/_sim/reset', { method: 'POST', apiKey: null })).status).toBe(200);
    expect(sim.stats()).toEqual({ requests: { total: 0, byStatus: {}, byOperation: { list: 0, create: 0, get: 0, delete: 0, update: 0 } }, authenticators: 0 });
  });
});
