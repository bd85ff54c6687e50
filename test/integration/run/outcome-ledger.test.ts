/** The outcomes ledger's write rules, on real Redis: counters, sticky success, if-absent writes, the breaker. */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobOutcome, JobOutcomeName } from '../../../src/run/outcome.js';
import { RunStore } from '../../../src/run/run-store.js';
import { connectRedis, deletePrefix, freshPrefix } from '../../helpers/redis.js';

const RUN = 'ledger';
const NOW = new Date('2026-01-01T00:00:00.000Z');

function outcome(name: JobOutcomeName, message: string | null = null): JobOutcome {
  return { outcome: name, httpStatus: name === 'failed' ? 404 : 200, message, attempts: 1, staId: null, staState: null, at: NOW.toISOString() };
}

describe('outcomes ledger', () => {
  let redis: Redis;
  let prefix = '';
  let store: RunStore;

  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });

  const fresh = () => {
    prefix = freshPrefix('ledger');
    store = new RunStore(redis, prefix);
    return store;
  };
  const write = (jobId: string, value: JobOutcome, extra: { breakerCode?: string | null; ifAbsent?: boolean } = {}) =>
    store.recordOutcome(RUN, { jobId, outcome: value, breakerCode: extra.breakerCode ?? null, breakerThreshold: 3, ...(extra.ifAbsent ? { ifAbsent: true } : {}) }, NOW);

  it('moves a job between counters as its outcome changes, and keeps a success', async () => {
    fresh();
    await write('j1', outcome('failed', 'HTTP 500'));
    expect(await store.getCounts(RUN)).toMatchObject({ failed: 1, imported: 0 });
    await write('j1', outcome('imported'));
    expect(await store.getCounts(RUN)).toMatchObject({ failed: 0, imported: 1 });
    // A re-delivery meeting its own import (409) and a later failure leave 'imported' alone.
    expect((await write('j1', outcome('already-imported'))).written).toBe(false);
    expect((await write('j1', outcome('failed', 'late'))).written).toBe(false);
    expect((await store.getOutcomes(RUN, ['j1']))[0]?.outcome).toBe('imported');
    expect(await store.getCounts(RUN)).toMatchObject({ failed: 0, imported: 1, alreadyImported: 0 });
  });

  it('writes an if-absent outcome only for a job without one, and never touches the breaker with it', async () => {
    fresh();
    await write('j1', outcome('failed', 'base64 userId ‘x’ was not found.'));
    expect((await write('j1', outcome('failed', 'Failed outside STA: boom'), { ifAbsent: true })).written).toBe(false);
    expect((await store.getOutcomes(RUN, ['j1']))[0]?.message).toBe('base64 userId ‘x’ was not found.');
    expect((await write('j2', outcome('failed', 'The queue gave up'), { ifAbsent: true })).written).toBe(true);
    expect(await store.getCounts(RUN)).toMatchObject({ failed: 2 });

    await write('j3', outcome('failed', 'bad key'), { breakerCode: 'invalid-credentials' });
    await write('j4', outcome('failed', 'x'), { ifAbsent: true });
    expect((await store.getBreaker()).streak).toBe(1);
  });

  it('trips the breaker after a streak of the same tenant-wide failure, and a success breaks the streak', async () => {
    fresh();
    await write('a', outcome('failed'), { breakerCode: 'import-disabled' });
    await write('b', outcome('failed'), { breakerCode: 'import-disabled' });
    await write('c', outcome('imported'));
    expect((await store.getBreaker()).streak).toBe(0);
    await write('d', outcome('failed'), { breakerCode: 'import-disabled' });
    await write('e', outcome('failed'), { breakerCode: 'invalid-credentials' });
    expect(await store.getBreaker()).toMatchObject({ code: 'invalid-credentials', streak: 1, tripped: false });
    await write('f', outcome('failed'), { breakerCode: 'invalid-credentials' });
    const tripped = await write('g', outcome('failed'), { breakerCode: 'invalid-credentials' });
    expect(tripped.tripped).toBe(true);
    expect(await store.getBreaker()).toMatchObject({ tripped: true, code: 'invalid-credentials', streak: 3 });
    // Only the write that trips it says so.
    expect((await write('h', outcome('failed'), { breakerCode: 'invalid-credentials' })).tripped).toBe(false);
  });
});
