/**
 * Real Redis for integration tests: every test gets its own key prefix and removes every key
 * under it afterwards (queues included), so tests run in parallel and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A prefix no other test uses: `t-<random>`. */
export function freshPrefix(label = 't'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export function connectRedis(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
}

/** Deletes every key under `prefix:` (BullMQ queues, runs, limiter, breaker). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
