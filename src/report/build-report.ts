import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ImportJobData } from '../queue/import-queue.js';
import type { JobOutcome } from '../run/outcome.js';
import type { RunStore } from '../run/run-store.js';
import { ReportFiles, type WrittenReport } from './report-files.js';
import { toReportRecord } from './report-record.js';
import { clearVerification, lookupFindings, type VerifyStats } from './verify-run.js';

export interface BuildReportDeps {
  readonly redis: Redis;
  readonly runStore: RunStore;
  readonly queue: Queue<ImportJobData>;
  /** Verifies against STA (verify-run.ts), or null to skip verification. */
  readonly verify: ((runId: string) => Promise<VerifyStats>) | null;
  readonly reportDir: string;
  readonly now: () => Date;
}

export interface BuiltReport extends WrittenReport {
  readonly verifyStats: VerifyStats | null;
}

/** The run does not exist in Redis. */
export class RunNotFoundError extends Error {
  readonly code = 'RUN_NOT_FOUND';

  constructor(runId: string) {
    super(`run '${runId}' was not found in Redis (see \`sta-migrate status\` for the runs it holds)`);
    this.name = 'RunNotFoundError';
  }
}

const CHUNK = 1000;

/**
 * (Re)writes a run's reconciliation report from Redis: every record the run read, in source order,
 * joined with its outcome from the ledger and (with verification) what STA holds now. Streams in
 * chunks; may run while the run is still going (unfinished records are `pending`).
 *
 * @throws {RunNotFoundError}
 */
export async function buildReport(deps: BuildReportDeps, runId: string): Promise<BuiltReport> {
  const manifest = await deps.runStore.getManifest(runId);
  if (!manifest) throw new RunNotFoundError(runId);
  const verifyStats = deps.verify ? await deps.verify(runId) : null;
  const files = await deps.runStore.getFiles(runId);
  const report = await ReportFiles.open(deps.reportDir, {
    runId,
    files: files.map((file) => file.name),
    startedAt: manifest.createdAt,
    finishedAt: manifest.finishedAt,
  });
  try {
    const total = await deps.runStore.recordCount(runId);
    for (let start = 0; start < total; start += CHUNK) {
      const entries = await deps.runStore.getRecords(runId, start, CHUNK);
      const jobIds = entries.map((entry) => entry.jobId ?? '');
      const outcomes = await deps.runStore.getOutcomes(runId, jobIds.map((id) => id || '\u0000none'));
      const unresolved = entries.map((entry, i) => (entry.jobId && !outcomes[i] ? entry.jobId : null));
      const fromQueue = await queueStates(deps.queue, deps.redis, unresolved);
      // A job can finish (and a completed one is removed at once) between the ledger read and the
      // queue look-up: read the ledger again before calling a job lost.
      const lost = fromQueue.flatMap((state, i) => (state !== null && state.outcome === null ? [i] : []));
      const late = await deps.runStore.getOutcomes(runId, lost.map((i) => entries[i]?.jobId ?? '\u0000none'));
      lost.forEach((slot, k) => {
        const outcome = late[k];
        if (outcome) fromQueue[slot] = { outcome, message: null };
      });
      const findings = verifyStats ? await lookupFindings(deps.redis, verifyStats.scratch, entries) : entries.map(() => null);
      for (let i = 0; i < entries.length; i += 1) {
        const entry = entries[i];
        if (!entry) continue;
        const queued = fromQueue[i];
        const outcome = outcomes[i] ?? queued?.outcome ?? null;
        await report.write(toReportRecord(entry, outcome, findings[i] ?? null, queued?.message ?? null));
      }
    }
    const written = await report.finish(deps.now());
    if (verifyStats) await clearVerification(deps.redis, verifyStats.scratch);
    return { ...written, verifyStats };
  } catch (error: unknown) {
    await report.abort();
    if (verifyStats) await clearVerification(deps.redis, verifyStats.scratch).catch(() => undefined);
    throw error;
  }
}

/**
 * For jobs without a ledger outcome, what the queue says: failed by BullMQ itself (stalled too
 * often) → a `failed` outcome with its reason; gone without an outcome → lost.
 */
async function queueStates(
  queue: Queue<ImportJobData>,
  redis: Redis,
  jobIds: readonly (string | null)[],
): Promise<({ outcome: JobOutcome | null; message: string | null } | null)[]> {
  const result: ({ outcome: JobOutcome | null; message: string | null } | null)[] = jobIds.map(() => null);
  const wanted = jobIds.flatMap((id, slot) => (id ? [{ id, slot }] : []));
  if (wanted.length === 0) return result;
  const pipeline = redis.pipeline();
  for (const { id } of wanted) pipeline.exists(queue.toKey(id)).hmget(queue.toKey(id), 'failedReason', 'finishedOn', 'attemptsStarted');
  const replies = (await pipeline.exec()) ?? [];
  wanted.forEach(({ slot }, k) => {
    const exists = replies[2 * k]?.[1];
    const [failedReason, finishedOn, attemptsStarted] = (replies[2 * k + 1]?.[1] as (string | null)[] | undefined) ?? [];
    if (exists === 0) {
      result[slot] = { outcome: null, message: 'no job in the queue and no outcome recorded (lost — was Redis evicting or flushed?): import this record again under a new run' };
    } else if (failedReason && finishedOn) {
      result[slot] = {
        outcome: {
          outcome: 'failed',
          httpStatus: null,
          message: `failed in the queue: ${failedReason}`,
          attempts: Number(attemptsStarted ?? 0),
          staId: null,
          staState: null,
          at: new Date(Number(finishedOn)).toISOString(),
        },
        message: null,
      };
    }
  });
  return result;
}
