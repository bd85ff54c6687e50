import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.js';

/**
 * Shared by the scripts below. The send log (KEYS[3], a ZSET of send times in µs, Redis clock)
 * records when requests actually left. A request that left late (its process was busy when its
 * slot came) still counts at the time it left, so a late one followed by punctual ones cannot put
 * more than `maxInWindow` into one window — which even spacing alone cannot promise.
 * Returns 0 when the request may leave now (and logs it), else µs until the oldest logged send
 * leaves the window.
 */
const ADMIT = `
local function admit(logKey, now, windowUs, maxInWindow)
  redis.call('ZREMRANGEBYSCORE', logKey, '-inf', now - windowUs)
  if redis.call('ZCARD', logKey) >= maxInWindow then
    local oldest = redis.call('ZRANGE', logKey, 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + windowUs - now)
  end
  local at = now
  while redis.call('ZADD', logKey, 'NX', at, string.format('%d', at)) == 0 do at = at + 1 end
  redis.call('PEXPIRE', logKey, math.ceil(windowUs / 1000) + 1000)
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
`;

/**
 * GCRA ("virtual scheduling") over Redis: one theoretical arrival time (TAT, µs, Redis clock,
 * KEYS[1]) shared by every process. Each call reserves the next free slot, spaced `intervalUs`
 * apart. Nobody gets a slot during a hold (KEYS[2], a 429's Retry-After); a reservation more than
 * `maxAheadUs` in the future is refused so that processes do not queue up unbounded promises.
 * Returns {state, waitUs}: state 1 = send now (logged), 2 = slot reserved: wait, then CONFIRM;
 * 0 = refused: wait, then ask again.
 */
const ACQUIRE = new LuaScript(`${ADMIT}
local interval = tonumber(ARGV[1])
local maxAhead = tonumber(ARGV[2])
if held > now then return { 0, held - now } end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > maxAhead then return { 0, wait - maxAhead } end
local due = wait <= tonumber(ARGV[5])
if due then
  local full = admit(KEYS[3], now, tonumber(ARGV[3]), tonumber(ARGV[4]))
  if full > 0 then return { 0, full } end
end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', nextTat), 'PX', math.ceil((nextTat - now) / 1000) + 1000)
if due then return { 1, 0 } end
return { 2, wait }
`);

/**
 * A reserved slot has come. It is void when a 429 put everyone on hold meanwhile, or when the last
 * window is full (earlier requests left late); then the caller waits and queues again.
 * Returns {1, 0} = send now (logged), or {0, waitUs}.
 */
const CONFIRM = new LuaScript(`${ADMIT}
if held > now then return { 0, held - now } end
local full = admit(KEYS[3], now, tonumber(ARGV[1]), tonumber(ARGV[2]))
if full > 0 then return { 0, full } end
return { 1, 0 }
`);

/** Pushes the TAT and the hold (KEYS[2]) to at least now + ARGV[1] µs: everybody waits (a 429's Retry-After). */
const HOLD = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilUs = now + tonumber(ARGV[1])
local ttlMs = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
for _, key in ipairs(KEYS) do
  if untilUs > tonumber(redis.call('GET', key) or '0') then
    redis.call('SET', key, string.format('%d', untilUs), 'PX', ttlMs)
  end
end
return 1
`);

/** The window STA's limit is counted in (a sliding second), µs. */
const WINDOW_US = 1_000_000;

/**
 * A slot due within this much is taken at once: timers cannot sleep less than a millisecond, and
 * at high rates slots are microseconds apart. Early by at most this much; the send log still caps
 * every second.
 */
const DUE_GRACE_US = 1000;

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
 * let 2× the limit through at a window edge; this one spaces requests evenly, never lets more than
 * ceil(perSecond × headroom) leave within one second (counted when they actually leave, so a busy
 * event loop cannot bunch them), and lets nothing leave during a 429's hold — not even a request
 * whose slot was reserved before the 429 arrived.
 */
export class GlobalRateLimiter {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #holdKey: string;
  readonly #logKey: string;
  readonly #intervalUs: number;
  /** Most requests one sliding second may hold (send times, whatever their spacing). */
  readonly #maxInWindow: number;
  readonly #maxAheadUs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(redis: Redis, key: string, options: GlobalRateLimiterOptions) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be positive');
    this.#redis = redis;
    this.#key = key;
    this.#holdKey = `${key}:hold`;
    this.#logKey = `${key}:log`;
    const usedPerSecond = options.perSecond * (options.headroom ?? DEFAULT_HEADROOM);
    this.#intervalUs = Math.round(1_000_000 / usedPerSecond);
    this.#maxInWindow = Math.max(1, Math.ceil(usedPerSecond));
    this.#maxAheadUs = (options.maxAheadMs ?? 2000) * 1000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Spacing between two requests, milliseconds. */
  get intervalMs(): number {
    return this.#intervalUs / 1000;
  }

  /** Resolves when this caller may send one request. */
  async acquire(): Promise<void> {
    const keys = [this.#key, this.#holdKey, this.#logKey];
    for (;;) {
      const [state, waitUs] = (await ACQUIRE.run(this.#redis, keys, [this.#intervalUs, this.#maxAheadUs, WINDOW_US, this.#maxInWindow, DUE_GRACE_US])) as [number, number];
      if (state === 1) return;
      // Whole milliseconds, rounded up: a timer that fires early would find its slot not yet due.
      await this.#sleep(Math.ceil(waitUs / 1000));
      if (state === 0) continue;
      const [sent, againUs] = (await CONFIRM.run(this.#redis, keys, [WINDOW_US, this.#maxInWindow])) as [number, number];
      if (sent === 1) return;
      await this.#sleep(Math.ceil(againUs / 1000));
    }
  }

  /** Holds every caller, in every process, for `ms` (STA's Retry-After). */
  async holdFor(ms: number): Promise<void> {
    await HOLD.run(this.#redis, [this.#key, this.#holdKey], [Math.round(ms * 1000)]);
  }
}
