import { Redis, type RedisOptions } from 'ioredis';
import { redactRedisUrl } from './redact-url.js';

export { redactRedisUrl };

export interface RedisConnectOptions {
  /**
   * For BullMQ workers and blocking commands: retry forever instead of failing commands while
   * Redis is away (BullMQ requires `maxRetriesPerRequest: null`).
   */
  readonly blocking?: boolean;
  readonly connectionName?: string;
}

/**
 * Opens an ioredis connection from a redis:// URL. `lazyConnect` so the caller decides when to
 * find out whether Redis answers ({@link pingRedis}).
 */
export function createRedis(url: string, options: RedisConnectOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    connectionName: options.connectionName ?? 'sta-migrate',
    // Commands issued in the same tick (limiter, ledger and queue calls of concurrent jobs) go out
    // as one write: fewer syscalls on both sides. Not for blocking connections, where BullMQ waits.
    enableAutoPipelining: options.blocking !== true,
    // Reconnect with capped backoff; the worker keeps going through a Redis restart.
    retryStrategy: (times: number) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
  };
  return new Redis(url, redisOptions);
}

/**
 * Connects and PINGs within `timeoutMs`.
 *
 * @returns null when Redis answers, else a message naming the URL without its password.
 */
export async function pingRedis(redis: Redis, url: string, timeoutMs = 3000): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
  });
  const attempt = (async () => {
    try {
      if (redis.status === 'wait') await redis.connect();
      await redis.ping();
      return null;
    } catch (error: unknown) {
      return error instanceof Error ? error.message : String(error);
    }
  })();
  const problem = await Promise.race([attempt, timeout]);
  clearTimeout(timer);
  return problem === null ? null : `Redis at ${redactRedisUrl(url)} is not reachable: ${problem}`;
}

/**
 * Redis settings that put a migration at risk. A queue under eviction silently loses jobs.
 *
 * @returns warnings to log (empty when all is well or CONFIG is not allowed).
 */
export async function checkRedisSettings(redis: Redis): Promise<string[]> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    const policy = Array.isArray(reply) ? String(reply[1]) : undefined;
    if (policy !== undefined && policy !== 'noeviction') {
      return [`Redis maxmemory-policy is '${policy}': set it to 'noeviction', or Redis may evict queued jobs and ledger entries under memory pressure`];
    }
    return [];
  } catch {
    return []; // Managed Redis often forbids CONFIG; nothing to check then.
  }
}
