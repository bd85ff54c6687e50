import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import pRetry from 'p-retry';
import { effectiveRetryAfterMs } from '../importer/retry-policy.js';
import { randomBytes } from 'node:crypto';
import type { VerifyScratchKeys } from '../run/run-keys.js';
import type { RunStore } from '../run/run-store.js';
import { MAX_PAGE_SIZE, type StaClient } from '../sta/sta-client.js';
import { StaError } from '../sta/sta-error.js';
import type { VerifyFinding } from './report-record.js';

export interface VerifyDeps {
  readonly redis: Redis;
  readonly runStore: RunStore;
  /** A client whose `beforeRequest` waits on the global rate limiter. */
  readonly sta: Pick<StaClient, 'listAuthenticators'>;
  /** Holds everyone after a 429 (the shared limiter). */
  readonly holdFor: (ms: number) => Promise<void>;
  /** Users listed at the same time. */
  readonly concurrency: number;
  readonly logger: Logger;
}

export interface VerifyStats {
  readonly users: number;
  /** `GET …/authenticators` pages fetched, retries included. */
  readonly listCalls: number;
  /** Users whose authenticators could not be listed (their records are `notChecked`). */
  readonly usersNotChecked: number;
  /** Where the findings are, for {@link lookupFindings}; removed by {@link clearVerification}. */
  readonly scratch: VerifyScratchKeys;
}

const CHUNK = 1000;
const ERROR_MARK = '\u0000!error';
const USERS_PER_BATCH = 200;

const userKey = (tenantCode: string, userId: string) => `${tenantCode}\u0000${userId}`;

/**
 * Asks STA what it holds for every user the run touched: each user is listed once (every page,
 * 20 per page), however many records they have, and the credential ids found are kept in Redis
 * (bounded memory here) for the report to join. Paced by the global rate limiter.
 */
export async function verifyRun(deps: VerifyDeps, runId: string): Promise<VerifyStats> {
  const keys = deps.runStore.scratchKeys(runId, randomBytes(6).toString('hex'));

  const total = await deps.runStore.recordCount(runId);
  for (let start = 0; start < total; start += CHUNK) {
    const entries = await deps.runStore.getRecords(runId, start, CHUNK);
    const users = entries
      .filter((entry) => entry.ingestOutcome !== 'invalid' && entry.tenantCode !== null && entry.userId !== null && entry.credentialId !== null)
      .map((entry) => userKey(entry.tenantCode ?? '', entry.userId ?? ''));
    if (users.length > 0) await deps.redis.sadd(keys.users, ...users);
  }

  let listCalls = 0;
  let usersNotChecked = 0;
  let users = 0;
  const listUser = async (key: string) => {
    const [tenantCode = '', userId = ''] = key.split('\u0000');
    const user = { tenantCode, userId };
    const found: string[] = [];
    try {
      for (let pageIndex = 0; ; pageIndex += 1) {
        const page = await pRetry(
          async () => {
            listCalls += 1;
            try {
              return await deps.sta.listAuthenticators(user, { pageIndex, pageSize: MAX_PAGE_SIZE });
            } catch (error: unknown) {
              if (error instanceof StaError && error.kind === 'rate-limited') await deps.holdFor(effectiveRetryAfterMs(error.retryAfterMs));
              throw error;
            }
          },
          {
            retries: 5,
            minTimeout: 500,
            factor: 2,
            shouldRetry: ({ error }) => error instanceof StaError && (error.kind === 'retryable' || error.kind === 'rate-limited'),
          },
        );
        for (const item of page.page.items) found.push(`${key}\u0000${item.id}`, item.state);
        if (page.page.items.length === 0 || pageIndex >= page.page.totalPages - 1) break;
      }
    } catch (error: unknown) {
      if (error instanceof StaError && error.reason === 'user-not-found') {
        // The user does not exist: nothing of theirs is present.
      } else {
        usersNotChecked += 1;
        const message = error instanceof Error ? error.message : String(error);
        deps.logger.warn({ tenantCode, userId, error: message }, 'could not list the user’s authenticators; their records stay notChecked');
        found.push(`${key}${ERROR_MARK}`, message);
      }
    }
    if (found.length > 0) await deps.redis.hset(keys.found, ...found);
  };

  // SPOP, not SSCAN: a scan may return an element twice, and every user must be listed once.
  for (;;) {
    const batch = await deps.redis.spop(keys.users, USERS_PER_BATCH);
    if (batch.length === 0) break;
    users += batch.length;
    await runWithConcurrency(batch, deps.concurrency, listUser);
  }
  return { users, listCalls, usersNotChecked, scratch: keys };
}

/** Findings for a chunk of records (null where the record was not looked for). */
export async function lookupFindings(
  redis: Redis,
  keys: VerifyScratchKeys,
  records: readonly { tenantCode: string | null; userId: string | null; credentialId: string | null; ingestOutcome: string }[],
): Promise<(VerifyFinding | null)[]> {
  const fields: string[] = [];
  for (const record of records) {
    const user = userKey(record.tenantCode ?? '', record.userId ?? '');
    fields.push(`${user}\u0000${record.credentialId ?? ''}`, `${user}${ERROR_MARK}`);
  }
  if (fields.length === 0) return [];
  const values = await redis.hmget(keys.found, ...fields);
  return records.map((record, i) => {
    if (record.ingestOutcome === 'invalid' || record.credentialId === null || record.userId === null) return null;
    const state = values[2 * i] ?? null;
    const error = values[2 * i + 1] ?? null;
    if (error !== null) return { verified: 'notChecked', state: null };
    return state === null ? { verified: 'missing', state: null } : { verified: 'present', state };
  });
}

/** Removes the scratch keys verification leaves for the report to join. */
export async function clearVerification(redis: Redis, keys: VerifyScratchKeys): Promise<void> {
  await redis.del(keys.users, keys.found);
}

async function runWithConcurrency<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  });
  await Promise.all(lanes);
}
