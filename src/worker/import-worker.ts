import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createImportJobHandler } from '../../jobs/import-authenticator.js';
import { backoffDelayMs, BREAKER_THRESHOLD, DEFAULT_BACKOFF, type BackoffPolicy } from '../importer/retry-policy.js';
import { DEFAULT_ATTEMPTS, IMPORT_QUEUE_NAME, type ImportJobData } from '../queue/import-queue.js';
import type { GlobalRateLimiter } from '../queue/global-rate-limiter.js';
import type { JobOutcomeName } from '../run/outcome.js';
import type { RunStore } from '../run/run-store.js';
import type { StaClient } from '../sta/sta-client.js';

export interface ImportWorkerOptions {
  /** A connection with maxRetriesPerRequest: null (BullMQ blocks on it). */
  readonly connection: Redis;
  readonly prefix: string;
  /** Jobs in flight in this process. */
  readonly concurrency: number;
  readonly sta: StaClient;
  readonly runStore: RunStore;
  readonly limiter: GlobalRateLimiter;
  readonly queue: Queue<ImportJobData>;
  readonly logger: Logger;
  /** How long a job lock lives without renewal, ms: a killed worker's jobs are re-delivered after it. */
  readonly lockDurationMs?: number;
  /** How often stalled jobs are looked for, ms. */
  readonly stalledIntervalMs?: number;
  /** Delays between BullMQ attempts; default {@link DEFAULT_BACKOFF} (tests shorten it). */
  readonly backoff?: BackoffPolicy;
  /**
   * Starts (429 re-deliveries included) after which a job is given up as `failed`; default
   * DEFAULT_ATTEMPTS + {@link RATE_LIMITED_STARTS}.
   */
  readonly maxStartedAttempts?: number;
  /** Jitter source in [0, 1); default Math.random (tests inject a fixed one). */
  readonly random?: () => number;
  readonly now?: () => Date;
}

/** Failure reasons BullMQ gives when it fails a job without calling the handler. */
const BULLMQ_GAVE_UP = /more than allowable limit/;

/** Starts beyond the attempts budget that a job may spend being throttled (429) before giving up. */
export const RATE_LIMITED_STARTS = 50;

/**
 * A BullMQ worker for the import queue. Pacing is the global limiter's (inside the STA client);
 * BullMQ's limiter is set only because `queue.rateLimit()` — the pause after a 429 — has no effect
 * on a worker without one; its max is far above any real rate so it never paces by itself.
 */
export function startImportWorker(options: ImportWorkerOptions): Worker<ImportJobData, JobOutcomeName> {
  const { logger, queue, limiter, runStore } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => new Date());
  const maxStartedAttempts = options.maxStartedAttempts ?? DEFAULT_ATTEMPTS + RATE_LIMITED_STARTS;
  const handler = createImportJobHandler({
    sta: options.sta,
    runStore,
    holdFor: async (ms) => {
      await limiter.holdFor(ms);
      await queue.rateLimit(ms);
    },
    onBreakerTripped: async (reason, job) => {
      logger.error({ reason, runId: job.runId }, 'circuit breaker tripped: every recent STA call failed the same way; pausing the import queue');
      await runStore.markAborted(job.runId, reason);
      await queue.pause();
    },
    breakerTripped: async () => (await runStore.getBreaker()).tripped,
    pauseQueue: () => queue.pause(),
    maxStartedAttempts,
    logger,
    now,
  });
  const worker = new Worker<ImportJobData, JobOutcomeName>(IMPORT_QUEUE_NAME, handler, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    autorun: true,
    limiter: { max: 1_000_000, duration: 1000 },
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A job whose worker died mid-request is re-delivered; re-POSTing is harmless (409 path).
    maxStalledCount: 3,
    // Backstop only: the handler itself gives up (and writes the outcome) one start earlier.
    maxStartedAttempts: maxStartedAttempts + 1,
    settings: { backoffStrategy: (attemptsMade: number) => backoffDelayMs(attemptsMade, random(), backoff) },
  });
  worker.on('error', (error) => {
    logger.error({ error: error.message }, 'worker error');
  });
  worker.on('failed', (job, error) => {
    // A job that failed for good must have an outcome, or `run` would wait for it forever. The
    // handler writes one for everything STA answered; this covers what it could not: jobs BullMQ
    // failed itself (stalled or started too often, never reaching the handler) and last attempts
    // that failed outside STA. Written only if absent: STA's own message is never overwritten.
    if (!job?.id || (job.finishedOn === undefined && !BULLMQ_GAVE_UP.test(error.message))) return;
    const gaveUp = BULLMQ_GAVE_UP.test(error.message);
    if (gaveUp) logger.warn({ jobId: job.id, runId: job.data.runId, error: error.message }, 'job failed by BullMQ');
    const outcome = {
      outcome: 'failed' as const,
      httpStatus: null,
      message: gaveUp ? `The queue gave up on the job: ${error.message} (a worker died or hung while holding it).` : `Failed outside STA: ${error.message}`,
      attempts: job.attemptsStarted,
      staId: null,
      staState: null,
      at: now().toISOString(),
    };
    runStore
      .recordOutcome(job.data.runId, { jobId: job.id, outcome, breakerCode: null, breakerThreshold: BREAKER_THRESHOLD, ifAbsent: true }, now())
      .catch((writeError: unknown) => {
        logger.error({ jobId: job.id, error: writeError instanceof Error ? writeError.message : String(writeError) }, 'could not record the outcome of a failed job');
      });
  });
  return worker;
}

/**
 * Graceful stop: no new jobs; in-flight requests finish. After `timeoutMs` the jobs still running
 * are cancelled: their handlers put them back in the queue at once (no attempt spent) for another
 * worker, without waiting for STA's answer. On 'forced', callers should `destroy()` the STA client
 * so that the abandoned requests do not keep the process alive.
 */
export async function closeWorkerGracefully(worker: Worker, timeoutMs: number): Promise<'drained' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => {
      resolve('forced');
    }, timeoutMs);
  });
  const closing = worker.close();
  const result = await Promise.race([closing.then(() => 'drained' as const), timeout]);
  clearTimeout(timer);
  if (result === 'forced') {
    // (worker.close(true) would only return the close already under way, still waiting for the jobs.)
    worker.cancelAllJobs('shutdown timeout');
    await closing;
  }
  return result;
}
