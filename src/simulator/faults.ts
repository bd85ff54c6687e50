import { DEFAULT_FAULTS, type SimulatorFaults } from './simulator-options.js';
import { SlidingWindowLimiter } from './sliding-window-limiter.js';

/** What the gate decided before an API request is handled. */
export type GateOutcome =
  | { readonly kind: 'pass' }
  | { readonly kind: 'rate-limited'; readonly retryAfterSeconds: number }
  | { readonly kind: 'fault' };

/**
 * The fault controls of one simulator. Random draws happen in a fixed order per request so an
 * injected `random` gives reproducible outcomes: first the drop draw (only when dropRate > 0),
 * then — if the request was admitted by the rate limiter — the fault draw (only when faultRate > 0).
 */
export class FaultController {
  private faults: SimulatorFaults;
  private readonly limiter: SlidingWindowLimiter;

  constructor(
    initial: Partial<SimulatorFaults>,
    private readonly random: () => number,
    private readonly nowMs: () => number,
  ) {
    this.faults = { ...DEFAULT_FAULTS, ...initial };
    this.limiter = new SlidingWindowLimiter(this.faults.rateLimitPerSecond);
  }

  get current(): Readonly<SimulatorFaults> {
    return this.faults;
  }

  /** Applies an already validated patch. */
  update(patch: Partial<SimulatorFaults>): void {
    this.faults = { ...this.faults, ...patch };
    this.limiter.setLimit(this.faults.rateLimitPerSecond);
  }

  /** Whether (and when) this request's connection is to be destroyed; null = answer normally. */
  drawDrop(): SimulatorFaults['dropMode'] | null {
    if (this.faults.dropRate <= 0) return null;
    return this.random() < this.faults.dropRate ? this.faults.dropMode : null;
  }

  /**
   * Rate limit, then random 5xx. A 429 is decided before the fault draw: a rejected request never
   * reaches the (simulated) service, so it cannot fail there either.
   */
  gate(): GateOutcome {
    const acquired = this.limiter.tryAcquire(this.nowMs());
    if (!acquired.admitted) return { kind: 'rate-limited', retryAfterSeconds: Math.max(1, Math.ceil(acquired.retryAfterMs / 1000)) };
    if (this.faults.faultRate > 0 && this.random() < this.faults.faultRate) return { kind: 'fault' };
    return { kind: 'pass' };
  }

  /** Empties the rate-limit window (POST /_sim/reset); the settings stay. */
  resetWindow(): void {
    this.limiter.clear();
  }
}
