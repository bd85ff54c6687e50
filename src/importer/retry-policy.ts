/**
 * Retry timing, as pure functions (tested without clocks).
 *
 * Layering — one loop per failure kind, never multiplied:
 * - Transport failures (reset, dropped connection, timeout) on a job's FIRST start get up to
 *   {@link TRANSPORT_RETRIES} quick in-process retries (p-retry, ~0.2 s and ~0.6 s): a blip costs no
 *   round trip through Redis. Later starts get none, so transient failures cost at worst
 *   (1 + TRANSPORT_RETRIES) + (attempts − 1) requests — 8 with the defaults — not their product.
 *   (A start interrupted by a 429 or a crash costs the one request it made.)
 * - Everything else transient (5xx, and transport failures that outlast p-retry) fails the BullMQ
 *   attempt; BullMQ re-delivers after {@link backoffDelayMs}.
 * - 429 is neither: the whole queue waits Retry-After and no attempt is spent (the started-attempts
 *   cap stops a job that is throttled forever).
 * Worst-case wall time for one job with defaults (6 attempts, 30 s timeout): 8 requests × 30 s
 * + backoff ≤ 2+4+8+16+32 = 62 s + p-retry ≤ 1 s ⇒ about 5 minutes before it is `failed`.
 */
export const TRANSPORT_RETRIES = 2;

export interface BackoffPolicy {
  /** Delay before the second attempt, milliseconds (before jitter). */
  readonly baseMs: number;
  /** Upper bound of any one delay, milliseconds. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2000, maxMs: 60_000 };

/**
 * Delay before the next BullMQ attempt: exponential with "equal jitter" — half fixed, half random —
 * so workers that failed together do not return together, yet never retry immediately.
 *
 * @param attemptsMade attempts already made (1 after the first failure)
 * @param random a number in [0, 1)
 */
export function backoffDelayMs(attemptsMade: number, random: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, attemptsMade - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Delays of p-retry's in-process transport retries, milliseconds (before its own jitter). */
export const TRANSPORT_RETRY_OPTIONS = { retries: TRANSPORT_RETRIES, minTimeout: 200, factor: 3, randomize: true } as const;

/** Cap and default for STA's Retry-After, milliseconds. */
export const RETRY_AFTER = { defaultMs: 1000, maxMs: 60_000 } as const;

/** Retry-After as the queue should honour it: default when absent, capped when absurd. */
export function effectiveRetryAfterMs(retryAfterMs: number | null): number {
  if (retryAfterMs === null || !Number.isFinite(retryAfterMs)) return RETRY_AFTER.defaultMs;
  return Math.min(Math.max(retryAfterMs, 0), RETRY_AFTER.maxMs);
}

/** Tenant-wide failures: when every call fails like this the run stops instead of failing job by job. */
export const BREAKER_REASONS = new Set([
  'no-api-key',
  'invalid-credentials',
  'no-tenant-permission',
  'plan-excludes-import',
  'import-disabled',
  'tenant-not-found',
]);

/** Consecutive tenant-wide failures (same reason, all workers) that trip the breaker. */
export const BREAKER_THRESHOLD = 5;
