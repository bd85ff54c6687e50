import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.js';
import type { JobOutcome, OutcomeCounts } from './outcome.js';
import { decodeRecordEntry, encodeRecordEntry, type RecordEntry } from './record-entry.js';
import { breakerKey, runKeys, runsIndexKey, verifyScratchKeys, type RunKeys, type VerifyScratchKeys } from './run-keys.js';

/** Progress of one export file within a run; the checkpoint that makes ingest resumable. */
export interface FileProgress {
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
  readonly format: string;
  readonly bytes: number;
  /** Records of this file already stored in the run (and enqueued when valid). */
  readonly recordsCommitted: number;
  readonly done: boolean;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** Options a run was ingested with, kept so a later report or resume can say how. */
export interface RunOptions {
  readonly rpId: string | null;
  readonly strict: boolean;
  readonly defaultTenant: string | null;
  readonly objectIdFormat: string;
  readonly map: Readonly<Record<string, string>>;
}

export interface RunManifest {
  readonly runId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly options: RunOptions | null;
  /** True once every file has been read to the end. */
  readonly ingestDone: boolean;
  /** First time every enqueued job had an outcome after ingest ended. */
  readonly finishedAt: string | null;
  /** Set when a circuit breaker stopped the run. */
  readonly abortedReason: string | null;
}

/** Counts plus what only the queue side knows. */
export interface RunCounts extends OutcomeCounts {
  /** Valid, unique records sent to the queue. */
  readonly enqueued: number;
}

/** Breaker state shared by all workers. */
export interface BreakerState {
  readonly tripped: boolean;
  readonly reason: string | null;
  readonly code: string | null;
  readonly streak: number;
  readonly trippedAt: string | null;
}

export interface OutcomeWrite {
  readonly jobId: string;
  readonly outcome: JobOutcome;
  /**
   * Circuit breaker input: null for an outcome that says STA works (resets the streak); a code
   * such as 'invalid-credentials' for a tenant-wide failure (extends the streak).
   */
  readonly breakerCode: string | null;
  /** Message to keep when this write trips the breaker. */
  readonly breakerReason?: string;
  readonly breakerThreshold: number;
  /**
   * Write only if the job has no outcome yet, without touching the breaker: for outcomes the
   * queue decides (a job BullMQ gave up on, a failure outside STA on the last attempt).
   */
  readonly ifAbsent?: boolean;
}

const CLAIM = new LuaScript(`
local out = {}
for i = 1, #ARGV, 3 do
  local key, id, src = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HSETNX', KEYS[1], key, id .. '\\n' .. src) == 1 then
    out[#out + 1] = ''
  else
    local existing = redis.call('HGET', KEYS[1], key)
    local nl = string.find(existing, '\\n', 1, true)
    if string.sub(existing, 1, nl - 1) == id then out[#out + 1] = '' else out[#out + 1] = string.sub(existing, nl + 1) end
  end
end
return out
`);

// KEYS: records, counts, files, manifest. ARGV: sha, fileJson, now, total, invalid, duplicate, enqueued, entries...
const COMMIT = new LuaScript(`
local first = 8
local n = #ARGV
local i = first
while i <= n do
  local last = math.min(i + 999, n)
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, last))
  i = last + 1
end
redis.call('HINCRBY', KEYS[2], 'total', ARGV[4])
redis.call('HINCRBY', KEYS[2], 'invalid', ARGV[5])
redis.call('HINCRBY', KEYS[2], 'duplicate', ARGV[6])
redis.call('HINCRBY', KEYS[2], 'enqueued', ARGV[7])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], 'updatedAt', ARGV[3])
return n - first + 1
`);

// KEYS: outcomes, counts, breaker. ARGV: jobId, json, name, breakerCode ('' = STA works: reset the
// streak), threshold, reason, now, ifAbsent ('1': only when the job has no outcome yet; the
// breaker is left alone — such a write is not something STA said)
const RECORD_OUTCOME = new LuaScript(`
local counter = { ['imported'] = 'imported', ['already-imported'] = 'alreadyImported', ['conflict'] = 'conflict', ['failed'] = 'failed' }
local prev = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[8] == '1' then
  if prev then return { 0, 0 } end
  redis.call('HINCRBY', KEYS[2], counter[ARGV[3]], 1)
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return { 1, 0 }
end
local prevName = nil
if prev then prevName = cjson.decode(prev)['outcome'] end
local name = ARGV[3]
local write = 1
-- Success is sticky: a re-delivery that meets its own earlier import (409) must not turn
-- 'imported' into 'already-imported', nor a later transient failure into 'failed'.
if prevName == 'imported' and name ~= 'imported' then write = 0 end
if prevName == 'already-imported' and name ~= 'imported' and name ~= 'already-imported' then write = 0 end
if write == 1 then
  if prevName ~= name then
    if prevName then redis.call('HINCRBY', KEYS[2], counter[prevName], -1) end
    redis.call('HINCRBY', KEYS[2], counter[name], 1)
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local tripped = 0
if ARGV[4] == '' then
  if tonumber(redis.call('HGET', KEYS[3], 'streak') or '0') > 0 then redis.call('HSET', KEYS[3], 'streak', 0) end
else
  local streak
  if redis.call('HGET', KEYS[3], 'code') == ARGV[4] then
    streak = redis.call('HINCRBY', KEYS[3], 'streak', 1)
  else
    redis.call('HSET', KEYS[3], 'code', ARGV[4], 'streak', 1)
    streak = 1
  end
  if streak >= tonumber(ARGV[5]) and redis.call('HGET', KEYS[3], 'tripped') ~= '1' then
    redis.call('HSET', KEYS[3], 'tripped', '1', 'reason', ARGV[6], 'trippedAt', ARGV[7])
    tripped = 1
  end
end
return { write, tripped }
`);

const RELEASE_LOCK = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** A claim of a credential by a record: `id` identifies the record (file hash + index). */
export interface Claim {
  readonly key: string;
  readonly id: string;
  readonly source: string;
}

/**
 * Everything a run keeps in Redis: manifest, counters, records in source order, duplicate claims,
 * and the outcomes ledger. Writers are atomic Lua scripts, so counters always match the entries.
 */
export class RunStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  keys(runId: string): RunKeys {
    return runKeys(this.#prefix, runId);
  }

  /** Scratch keys for one verification of the run. */
  scratchKeys(runId: string, token: string): VerifyScratchKeys {
    return verifyScratchKeys(this.#prefix, runId, token);
  }

  /** Creates the run if new; returns whether it already existed. */
  async ensureRun(runId: string, options: RunOptions, now: Date): Promise<{ existed: boolean }> {
    const keys = this.keys(runId);
    const created = await this.#redis.hsetnx(keys.manifest, 'runId', runId);
    if (created === 1) {
      await this.#redis
        .multi()
        .hset(keys.manifest, { createdAt: now.toISOString(), updatedAt: now.toISOString(), options: JSON.stringify(options), ingestDone: '0' })
        .zadd(runsIndexKey(this.#prefix), now.getTime(), runId)
        .exec();
    }
    return { existed: created === 0 };
  }

  async getManifest(runId: string): Promise<RunManifest | null> {
    const raw = await this.#redis.hgetall(this.keys(runId).manifest);
    if (!raw['runId']) return null;
    return {
      runId,
      createdAt: raw['createdAt'] ?? '',
      updatedAt: raw['updatedAt'] ?? '',
      options: raw['options'] ? (JSON.parse(raw['options']) as RunOptions) : null,
      ingestDone: raw['ingestDone'] === '1',
      finishedAt: raw['finishedAt'] ?? null,
      abortedReason: raw['abortedReason'] ?? null,
    };
  }

  async listRunIds(limit = 100): Promise<string[]> {
    return this.#redis.zrevrange(runsIndexKey(this.#prefix), 0, limit - 1);
  }

  async setIngestDone(runId: string, done: boolean, now: Date): Promise<void> {
    await this.#redis.hset(this.keys(runId).manifest, { ingestDone: done ? '1' : '0', updatedAt: now.toISOString() });
  }

  /** Marks the run finished the first time it is seen complete. */
  async markFinished(runId: string, now: Date): Promise<void> {
    await this.#redis.hsetnx(this.keys(runId).manifest, 'finishedAt', now.toISOString());
  }

  async clearFinished(runId: string): Promise<void> {
    await this.#redis.hdel(this.keys(runId).manifest, 'finishedAt', 'abortedReason');
  }

  async markAborted(runId: string, reason: string): Promise<void> {
    await this.#redis.hset(this.keys(runId).manifest, 'abortedReason', reason);
  }

  async getFiles(runId: string): Promise<FileProgress[]> {
    const raw = await this.#redis.hvals(this.keys(runId).files);
    return raw.map((text) => JSON.parse(text) as FileProgress).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async getFile(runId: string, sha256: string): Promise<FileProgress | null> {
    const raw = await this.#redis.hget(this.keys(runId).files, sha256);
    return raw ? (JSON.parse(raw) as FileProgress) : null;
  }

  async startFile(runId: string, progress: FileProgress): Promise<void> {
    await this.#redis.hset(this.keys(runId).files, progress.sha256, JSON.stringify(progress));
  }

  /**
   * Claims credentials for records, in order. For each claim returns null when the record owns the
   * credential (first seen, or its own earlier claim from an interrupted batch), else the source of
   * the record that claimed it first.
   */
  async claim(runId: string, claims: readonly Claim[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const args = claims.flatMap((claim) => [claim.key, claim.id, claim.source]);
    const reply = (await CLAIM.run(this.#redis, [this.keys(runId).claims], args)) as string[];
    return reply.map((value) => (value === '' ? null : value));
  }

  /** Appends a batch of records and moves the file checkpoint, atomically. */
  async commitBatch(
    runId: string,
    file: FileProgress,
    entries: readonly RecordEntry[],
    now: Date,
  ): Promise<void> {
    const keys = this.keys(runId);
    let invalid = 0;
    let duplicate = 0;
    let enqueued = 0;
    for (const entry of entries) {
      if (entry.ingestOutcome === 'invalid') invalid += 1;
      else if (entry.ingestOutcome === 'duplicate') duplicate += 1;
      else enqueued += 1;
    }
    await COMMIT.run(
      this.#redis,
      [keys.records, keys.counts, keys.files, keys.manifest],
      [file.sha256, JSON.stringify(file), now.toISOString(), entries.length, invalid, duplicate, enqueued, ...entries.map(encodeRecordEntry)],
    );
  }

  async getCounts(runId: string): Promise<RunCounts> {
    const raw = await this.#redis.hgetall(this.keys(runId).counts);
    return countsFrom(raw);
  }

  /** Records in source order, `count` from `start`. */
  async getRecords(runId: string, start: number, count: number): Promise<RecordEntry[]> {
    const raw = await this.#redis.lrange(this.keys(runId).records, start, start + count - 1);
    return raw.map(decodeRecordEntry);
  }

  async recordCount(runId: string): Promise<number> {
    return this.#redis.llen(this.keys(runId).records);
  }

  /** Writes a job outcome and feeds the circuit breaker, atomically. */
  async recordOutcome(runId: string, write: OutcomeWrite, now: Date): Promise<{ written: boolean; tripped: boolean }> {
    const keys = this.keys(runId);
    const reply = (await RECORD_OUTCOME.run(
      this.#redis,
      [keys.outcomes, keys.counts, breakerKey(this.#prefix)],
      [
        write.jobId,
        JSON.stringify(write.outcome),
        write.outcome.outcome,
        write.breakerCode ?? '',
        write.breakerThreshold,
        write.breakerReason ?? write.breakerCode ?? '',
        now.toISOString(),
        write.ifAbsent ? '1' : '0',
      ],
    )) as [number, number];
    return { written: reply[0] === 1, tripped: reply[1] === 1 };
  }

  async getOutcomes(runId: string, jobIds: readonly string[]): Promise<(JobOutcome | null)[]> {
    if (jobIds.length === 0) return [];
    const raw = await this.#redis.hmget(this.keys(runId).outcomes, ...jobIds);
    return raw.map((text) => (text ? (JSON.parse(text) as JobOutcome) : null));
  }

  async getBreaker(): Promise<BreakerState> {
    const raw = await this.#redis.hgetall(breakerKey(this.#prefix));
    return {
      tripped: raw['tripped'] === '1',
      reason: raw['reason'] ?? null,
      code: raw['code'] ?? null,
      streak: Number(raw['streak'] ?? 0),
      trippedAt: raw['trippedAt'] ?? null,
    };
  }

  async resetBreaker(): Promise<void> {
    await this.#redis.del(breakerKey(this.#prefix));
  }

  /** Takes the run's ingest lock for `ttlMs`; false when another ingest holds it. */
  async acquireIngestLock(runId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(this.keys(runId).ingestLock, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async extendIngestLock(runId: string, token: string, ttlMs: number): Promise<void> {
    const key = this.keys(runId).ingestLock;
    if ((await this.#redis.get(key)) === token) await this.#redis.pexpire(key, ttlMs);
  }

  async releaseIngestLock(runId: string, token: string): Promise<void> {
    await RELEASE_LOCK.run(this.#redis, [this.keys(runId).ingestLock], [token]);
  }
}

export function countsFrom(raw: Record<string, string>): RunCounts {
  const read = (name: string) => Number(raw[name] ?? 0);
  const enqueued = read('enqueued');
  const imported = read('imported');
  const alreadyImported = read('alreadyImported');
  const conflict = read('conflict');
  const failed = read('failed');
  return {
    total: read('total'),
    enqueued,
    imported,
    alreadyImported,
    conflict,
    failed,
    invalid: read('invalid'),
    duplicate: read('duplicate'),
    pending: Math.max(0, enqueued - imported - alreadyImported - conflict - failed),
  };
}
