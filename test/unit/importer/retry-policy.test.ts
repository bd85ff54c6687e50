import { describe, expect, it } from 'vitest';
import { DEFAULT_ATTEMPTS } from '../../../src/queue/import-queue.js';
import {
  backoffDelayMs,
  BREAKER_REASONS,
  DEFAULT_BACKOFF,
  effectiveRetryAfterMs,
  RETRY_AFTER,
  TRANSPORT_RETRIES,
  TRANSPORT_RETRY_OPTIONS,
} from '../../../src/importer/retry-policy.js';

/** The exponential ceiling before jitter, as the policy documents it. */
function ceilingMs(attemptsMade: number, policy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attemptsMade - 1));
}

describe('backoffDelayMs (equal jitter)', () => {
  it('waits between half the ceiling and the ceiling, whatever the random draw', () => {
    for (let attemptsMade = 1; attemptsMade <= 10; attemptsMade += 1) {
      const ceiling = ceilingMs(attemptsMade);
      for (const random of [0, 0.25, 0.5, 0.999_999]) {
        const delayMs = backoffDelayMs(attemptsMade, random);
        expect(delayMs).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delayMs).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('spans the whole jitter range: half the ceiling at random 0, nearly all of it near 1', () => {
    expect(backoffDelayMs(1, 0)).toBe(1000);
    expect(backoffDelayMs(1, 0.999_999)).toBe(2000);
    expect(backoffDelayMs(3, 0)).toBe(4000);
    expect(backoffDelayMs(3, 0.5)).toBe(6000);
  });

  it('doubles the ceiling per attempt from baseMs', () => {
    const policy = { baseMs: 100, maxMs: 1_000_000 };
    expect([1, 2, 3, 4, 5].map((attemptsMade) => backoffDelayMs(attemptsMade, 0.999_999, policy))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('never exceeds maxMs, even for absurd attempt counts', () => {
    for (const attemptsMade of [6, 7, 20, 31, 100, 10_000]) {
      const delayMs = backoffDelayMs(attemptsMade, 0.999_999);
      expect(delayMs).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
      expect(delayMs).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.maxMs / 2);
      expect(Number.isFinite(delayMs)).toBe(true);
    }
  });

  it('treats attemptsMade 0 (or less) like the first retry rather than shrinking the delay', () => {
    expect(backoffDelayMs(0, 0)).toBe(backoffDelayMs(1, 0));
    expect(backoffDelayMs(-3, 0.5)).toBe(backoffDelayMs(1, 0.5));
  });

  it('honours a custom policy (tests and tuning use a short one)', () => {
    const policy = { baseMs: 400, maxMs: 500 };
    expect(backoffDelayMs(1, 0.5, policy)).toBe(300);
    expect(backoffDelayMs(2, 0, policy)).toBe(250);
    expect(backoffDelayMs(2, 0.999_999, policy)).toBe(500);
  });
});

describe('effectiveRetryAfterMs', () => {
  it('uses the default when STA gave no Retry-After (or an unusable one)', () => {
    expect(effectiveRetryAfterMs(null)).toBe(RETRY_AFTER.defaultMs);
    expect(effectiveRetryAfterMs(Number.NaN)).toBe(RETRY_AFTER.defaultMs);
    expect(effectiveRetryAfterMs(Number.POSITIVE_INFINITY)).toBe(RETRY_AFTER.defaultMs);
  });

  it('honours a sensible Retry-After as given', () => {
    expect(effectiveRetryAfterMs(1000)).toBe(1000);
    expect(effectiveRetryAfterMs(2500)).toBe(2500);
  });

  it('caps an absurd Retry-After so one answer cannot stall the run for hours', () => {
    expect(effectiveRetryAfterMs(RETRY_AFTER.maxMs + 1)).toBe(RETRY_AFTER.maxMs);
    expect(effectiveRetryAfterMs(86_400_000)).toBe(RETRY_AFTER.maxMs);
  });

  it('turns a negative Retry-After (a date in the past) into no wait', () => {
    expect(effectiveRetryAfterMs(-5000)).toBe(0);
    expect(effectiveRetryAfterMs(0)).toBe(0);
  });
});

describe('the documented worst case: retry layers add up, never multiply', () => {
  /** Requests one job can make: p-retry only on the first BullMQ attempt, one request per later attempt. */
  function worstCaseRequests(attempts: number): number {
    let requests = 0;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const transportRetries = attempt === 1 ? TRANSPORT_RETRY_OPTIONS.retries : 0;
      requests += 1 + transportRetries;
    }
    return requests;
  }

  it('is 1 + TRANSPORT_RETRIES + (attempts − 1) requests per job', () => {
    expect(TRANSPORT_RETRY_OPTIONS.retries).toBe(TRANSPORT_RETRIES);
    expect(worstCaseRequests(DEFAULT_ATTEMPTS)).toBe(1 + TRANSPORT_RETRIES + DEFAULT_ATTEMPTS - 1);
    expect(worstCaseRequests(DEFAULT_ATTEMPTS)).toBe(8);
    expect(worstCaseRequests(DEFAULT_ATTEMPTS)).toBeLessThan((1 + TRANSPORT_RETRIES) * DEFAULT_ATTEMPTS);
  });

  it('spends at most about a minute in BullMQ backoff over all attempts (≤ 2+4+8+16+32 s)', () => {
    let totalMs = 0;
    for (let attemptsMade = 1; attemptsMade < DEFAULT_ATTEMPTS; attemptsMade += 1) totalMs += backoffDelayMs(attemptsMade, 0.999_999);
    expect(totalMs).toBeLessThanOrEqual(62_000);
    expect(totalMs).toBeGreaterThanOrEqual(31_000);
  });
});

describe('BREAKER_REASONS', () => {
  it('covers the tenant-wide failures and none of the per-record ones', () => {
    for (const reason of ['invalid-credentials', 'no-api-key', 'import-disabled', 'plan-excludes-import', 'no-tenant-permission', 'tenant-not-found']) {
      expect(BREAKER_REASONS.has(reason)).toBe(true);
    }
    for (const reason of ['user-not-found', 'authenticator-not-found', 'already-in-use', 'validation']) {
      expect(BREAKER_REASONS.has(reason)).toBe(false);
    }
  });
});
