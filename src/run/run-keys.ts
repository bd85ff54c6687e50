/**
 * Redis keys of runs, under the configured prefix. With a hash-tagged prefix (`{sta}`) every key
 * lands in one Redis Cluster slot, which the Lua scripts (several keys each) and BullMQ need.
 */
export interface RunKeys {
  /** HASH: the run manifest (id, times, options, abort reason). */
  readonly manifest: string;
  /** HASH: counters by outcome (total, enqueued, imported, …). */
  readonly counts: string;
  /** LIST: every input record in source order (encoded RecordEntry). */
  readonly records: string;
  /** HASH: file sha256 → ingest progress of that file (checkpoint). */
  readonly files: string;
  /** HASH: tenant + credential id → first record holding it (duplicate detection). */
  readonly claims: string;
  /** HASH: job id → JobOutcome JSON (the outcomes ledger). */
  readonly outcomes: string;
  /** STRING: held by the one ingest process writing this run. */
  readonly ingestLock: string;
}

export function runKeys(prefix: string, runId: string): RunKeys {
  const base = `${prefix}:run:${runId}`;
  return {
    manifest: base,
    counts: `${base}:counts`,
    records: `${base}:records`,
    files: `${base}:files`,
    claims: `${base}:claims`,
    outcomes: `${base}:outcomes`,
    ingestLock: `${base}:ingest-lock`,
  };
}

/**
 * Scratch keys of one verification (a SET of users to list, a HASH of what STA holds), named per
 * report build so that two builds of the same run never share them.
 */
export interface VerifyScratchKeys {
  readonly users: string;
  readonly found: string;
}

export function verifyScratchKeys(prefix: string, runId: string, token: string): VerifyScratchKeys {
  const base = `${prefix}:run:${runId}:verify:${token}`;
  return { users: `${base}:users`, found: `${base}:found` };
}

/** ZSET of run ids scored by creation time (ms). */
export const runsIndexKey = (prefix: string) => `${prefix}:runs`;
/** HASH: the circuit breaker shared by every worker of the queue. */
export const breakerKey = (prefix: string) => `${prefix}:breaker`;
/** STRING: the global rate limiter's theoretical arrival time. */
export const limiterKey = (prefix: string) => `${prefix}:limiter`;
