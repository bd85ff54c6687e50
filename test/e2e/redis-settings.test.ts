/**
 * Redis settings that endanger a migration are called out at start. Uses a redis-server of its
 * own (the shared one's configuration is not the test's to change).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayRedis, type ThrowawayRedis } from '../../src/cli/throwaway-redis.js';
import { runCli } from '../helpers/cli.js';
import { connectRedis } from '../helpers/redis.js';

describe('Redis settings check', () => {
  let redis: ThrowawayRedis | null = null;

  beforeAll(async () => {
    redis = await startThrowawayRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('warns when maxmemory-policy may evict queued jobs, and stays quiet with noeviction', async () => {
    if (!redis) throw new Error('redis-server could not be started');
    const quiet = await runCli(['status'], { env: { REDIS_URL: redis.url } });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).not.toContain('maxmemory-policy');

    const client = connectRedis(redis.url);
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await client.quit();
    const warned = await runCli(['status'], { env: { REDIS_URL: redis.url } });
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stdout).toContain("Redis maxmemory-policy is 'allkeys-lru': set it to 'noeviction'");
  });
});
