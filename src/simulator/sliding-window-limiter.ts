/** Outcome of {@link SlidingWindowLimiter.tryAcquire}. */
export type AcquireOutcome = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterMs: number };

/**
 * A sliding-window log limiter: at most `limit` admissions in any window of `windowMs`. Rejected
 * attempts are not recorded, so a client hammering a full window does not extend it. The log is a
 * ring buffer of admission times, so each call is O(1) amortised.
 */
export class SlidingWindowLimiter {
  private times: Float64Array;
  private head = 0;
  private size = 0;

  /** `limit`: admissions per window (integer ≥ 1), or null for unlimited. */
  constructor(
    private limit: number | null,
    private readonly windowMs = 1000,
  ) {
    this.times = new Float64Array(limit ?? 0);
  }

  /** Admits (and records) one request at `nowMs`, or says how long until the oldest admission leaves the window. */
  tryAcquire(nowMs: number): AcquireOutcome {
    if (this.limit === null) return { admitted: true };
    this.evict(nowMs);
    if (this.size < this.limit) {
      this.times[(this.head + this.size) % this.times.length] = nowMs;
      this.size += 1;
      return { admitted: true };
    }
    const oldest = this.times[this.head] ?? nowMs;
    return { admitted: false, retryAfterMs: Math.max(0, oldest + this.windowMs - nowMs) };
  }

  /** Changes the limit, keeping the most recent admissions that still fit. */
  setLimit(limit: number | null): void {
    if (limit === this.limit) return;
    const recent = this.recentTimes();
    this.limit = limit;
    this.times = new Float64Array(limit ?? 0);
    this.head = 0;
    const kept = limit === null ? [] : recent.slice(Math.max(0, recent.length - limit));
    kept.forEach((time, index) => {
      this.times[index] = time;
    });
    this.size = kept.length;
  }

  /** Forgets every admission. */
  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private evict(nowMs: number): void {
    while (this.size > 0) {
      const oldest = this.times[this.head] ?? nowMs;
      if (oldest + this.windowMs > nowMs) return;
      this.head = (this.head + 1) % this.times.length;
      this.size -= 1;
    }
  }

  private recentTimes(): number[] {
    const result: number[] = [];
    for (let index = 0; index < this.size; index += 1) result.push(this.times[(this.head + index) % this.times.length] ?? 0);
    return result;
  }
}
