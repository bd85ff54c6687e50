import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GlobalRateLimiter } from '../../../src/queue/global-rate-limiter.js';
import { limiterKey } from '../../../src/run/run-keys.js';
import { connectRedis, deletePrefix, freshPrefix } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = connectRedis();
  prefix = freshPrefix('limiter');
});

afterEach(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

/** Most timestamps found in any window of `windowMs` (times sorted ascending). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Calls acquire() `count` times at once; returns when each call was let through (ms, sorted). */
async function acquireAll(limiter: GlobalRateLimiter, count: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      await limiter.acquire();
      times.push(performance.now());
    }),
  );
  return times.sort((a, b) => a - b);
}

/** Waits until the limiter's next free slot (its TAT, µs) is at least `aheadMs` away. */
async function waitForReservations(key: string, aheadMs: number): Promise<void> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const [[seconds, micros], tat] = await Promise.all([redis.time(), redis.get(key)]);
    if (Number(tat ?? 0) - (Number(seconds) * 1e6 + Number(micros)) >= aheadMs * 1000) return;
    if (performance.now() > deadline) throw new Error('the callers did not reserve their slots');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('GlobalRateLimiter', () => {
  it('spaces requests evenly at perSecond × headroom', async () => {
    const limiter = new GlobalRateLimiter(redis, limiterKey(prefix), { perSecond: 50, headroom: 1 });
    const started = performance.now();
    const times = await acquireAll(limiter, 26);
    // 26 requests 20 ms apart: the last leaves about 500 ms after the first.
    expect((times.at(-1) ?? 0) - started).toBeGreaterThanOrEqual(480);
    expect(busiestWindow(times, 950)).toBeLessThanOrEqual(50);
  });

  it('keeps a sliding second within the limit when a stalled process sends its requests late and at once', async () => {
    // Model of a busy event loop: every sleep that would end between 100 and 600 ms after the
    // start ends at 600 ms instead — so the requests whose slots fell in that stretch all leave
    // together, late, while later slots stay on time. Spacing alone then puts 15 into one second.
    const origin = performance.now();
    const stalled = (ms: number) =>
      new Promise<void>((resolve) => {
        const dueMs = performance.now() + ms - origin;
        const delayMs = dueMs > 100 && dueMs < 600 ? 600 - (performance.now() - origin) : ms;
        setTimeout(resolve, Math.max(0, delayMs));
      });
    const limiter = new GlobalRateLimiter(redis, limiterKey(prefix), { perSecond: 10, headroom: 1, sleep: stalled });
    const times = await acquireAll(limiter, 25);

    // ≤ 10 in any second by Redis's clock; 50 ms of slack for reply times on a loaded machine.
    expect(busiestWindow(times, 950)).toBeLessThanOrEqual(10);
  });

  it('lets nothing through during a hold, not even requests whose slots were reserved before it', async () => {
    const key = limiterKey(prefix);
    const limiter = new GlobalRateLimiter(redis, key, { perSecond: 10, headroom: 1 });
    await limiter.acquire();
    // Eight callers reserve the slots of the next 800 ms …
    const pending = acquireAll(limiter, 8);
    await waitForReservations(key, 700);
    // … then a 429 holds everyone for 600 ms.
    const heldAt = performance.now();
    await limiter.holdFor(600);
    const times = await pending;

    expect(times.filter((time) => time > heldAt + 5 && time < heldAt + 600 - 20)).toEqual([]);
    expect(times).toHaveLength(8);
  });
});
