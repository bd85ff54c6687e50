import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.js';

/**
 * GCRA ("virtual scheduling") over Redis: one theoretical arrival time (TAT, µs, Redis clock)
 * shared by every process. Each call reserves the next free slot, spaced `intervalUs` apart, and
 * returns how long to wait for it; a reservation more than `maxAheadUs` in the future is refused
 * (returns how long to back off) so that processes do not queue up unbounded promises.
 * Returns {granted 0|1, waitUs}.
 */
const ACQUIRE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local maxAhead = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > maxAhead then return { 0, wait - maxAhead } end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', nextTat), 'PX', math.ceil((nextTat - now) / 1000) + 1000)
return { 1, wait }
`);

/**
 * Pushes the TAT to at least now + ARGV[1] µs: everybody waits (a 429's Retry-After). KEYS[2]
 * remembers the end of the hold, for callers that reserved a slot before it ({@link HELD_US}).
 */
const HOLD = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilUs = now + tonumber(ARGV[1])
local ttlMs = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilUs > tat then
  redis.call('SET', KEYS[1], string.format('%d', untilUs), 'PX', ttlMs)
end
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if untilUs > held then
  redis.call('SET', KEYS[2], string.format('%d', untilUs), 'PX', ttlMs)
end
return 1
`);

/** µs left of the current hold (0 when none). */
const HELD_US = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > now then return held - now end
return 0
`);

export interface GlobalRateLimiterOptions {
  /** The rate STA allows, requests per second, for all processes together. */
  readonly perSecond: number;
  /**
   * Fraction of `perSecond` actually used. Requests leave on a strict schedule but reach STA with
   * network jitter; a server counting a sliding window sees two requests one period apart as
   * "inside" the window whenever the later one travels faster. 5% spacing slack absorbs that.
   */
  readonly headroom?: number;
  /** How far ahead a slot may be reserved, milliseconds. */
  readonly maxAheadMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_HEADROOM = 0.95;

/**
 * The one pacing mechanism for every STA call (imports, 409 look-ups, verification pages), across
 * all worker processes and hosts. BullMQ's own limiter counts job starts in fixed windows and can
 * let 2× the limit through at a window edge; this one spaces requests evenly.
 */
export class GlobalRateLimiter {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #holdKey: string;
  readonly #intervalUs: number;
  readonly #maxAheadUs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(redis: Redis, key: string, options: GlobalRateLimiterOptions) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be positive');
    this.#redis = redis;
    this.#key = key;
    this.#holdKey = `${key}:hold`;
    this.#intervalUs = Math.round(1_000_000 / (options.perSecond * (options.headroom ?? DEFAULT_HEADROOM)));
    this.#maxAheadUs = (options.maxAheadMs ?? 2000) * 1000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Spacing between two requests, milliseconds. */
  get intervalMs(): number {
    return this.#intervalUs / 1000;
  }

  /** Resolves when this caller may send one request. */
  async acquire(): Promise<void> {
    for (;;) {
      const [granted, waitUs] = (await ACQUIRE.run(this.#redis, [this.#key], [this.#intervalUs, this.#maxAheadUs])) as [number, number];
      // Whole milliseconds, rounded up: a timer that fires early would find its slot still held.
      if (waitUs > 0) await this.#sleep(Math.ceil(waitUs / 1000));
      if (granted !== 1) continue;
      if (waitUs === 0) return;
      // The slot was reserved before the sleep; a 429 may have put everyone on hold since. Then
      // the slot is void and the caller queues again, behind the hold.
      const heldUs = (await HELD_US.run(this.#redis, [this.#holdKey], [])) as number;
      if (heldUs <= 0) return;
    }
  }

  /** Holds every caller, in every process, for `ms` (STA's Retry-After). */
  async holdFor(ms: number): Promise<void> {
    await HOLD.run(this.#redis, [this.#key, this.#holdKey], [Math.round(ms * 1000)]);
  }
}
