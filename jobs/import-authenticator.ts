import { RateLimitError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { importAuthenticator, type ImportOutcome } from '../src/importer/import-authenticator.js';
import { BREAKER_THRESHOLD, effectiveRetryAfterMs } from '../src/importer/retry-policy.js';
import type { ImportJobData } from '../src/queue/import-queue.js';
import type { JobOutcomeName } from '../src/run/outcome.js';
import type { RunStore } from '../src/run/run-store.js';
import type { StaClient } from '../src/sta/sta-client.js';
import { jobLogContext, shortCredentialId } from '../src/log/job-context.js';

export interface ImportJobDeps {
  /** STA client whose `beforeRequest` waits on the global rate limiter. */
  readonly sta: Pick<StaClient, 'createAuthenticator' | 'getAuthenticator'>;
  readonly runStore: Pick<RunStore, 'recordOutcome'>;
  /** Holds every worker for a 429's Retry-After: the shared limiter and BullMQ's queue limit. */
  readonly holdFor: (ms: number) => Promise<void>;
  /** Stops the queue when the circuit breaker trips. */
  readonly onBreakerTripped: (reason: string, job: ImportJobData) => Promise<void>;
  /** Whether the circuit breaker has stopped the queue (asked only after a tenant-wide failure). */
  readonly breakerTripped: () => Promise<boolean>;
  /** Pauses the queue (idempotent): the breaker is open, whichever process tripped it. */
  readonly pauseQueue: () => Promise<void>;
  /** Starts (429 re-deliveries and stalls included) after which a job is given up. */
  readonly maxStartedAttempts: number;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * BullMQ handler for one import job: payload → importAuthenticator → ledger. Throws only to steer
 * BullMQ: an Error to retry with backoff, RateLimitError to wait without spending an attempt (a
 * 429, or a tenant-wide failure once the circuit breaker is open),
 * UnrecoverableError to keep a `failed` job in the failed set (after writing its outcome).
 */
export function createImportJobHandler(deps: ImportJobDeps): (job: Job<ImportJobData>, token?: string, signal?: AbortSignal) => Promise<JobOutcomeName> {
  // Three parameters: BullMQ passes `signal` only to a processor that declares it.
  return async (job, _token, signal) => {
    try {
      return await processJob(deps, job, signal);
    } catch (error: unknown) {
      if (steersBullmq(error) || job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw error;
      // The last attempt failed outside STA (Redis away mid-job, a bug): its outcome must still
      // be written, or the run would wait for this record forever.
      const message = error instanceof Error ? error.message : String(error);
      await deps.runStore
        .recordOutcome(
          job.data.runId,
          {
            jobId: job.id ?? '(no id)',
            outcome: { outcome: 'failed', httpStatus: null, message: `Failed outside STA: ${message}`, attempts: Math.max(job.attemptsStarted, 1), staId: null, staState: null, at: deps.now().toISOString() },
            breakerCode: null,
            breakerThreshold: BREAKER_THRESHOLD,
            ifAbsent: true,
          },
          deps.now(),
        )
        .catch(() => undefined); // the worker's 'failed' listener tries again
      throw new UnrecoverableError(message);
    }
  };
}

/** Errors the handler throws on purpose to steer BullMQ. */
function steersBullmq(error: unknown): boolean {
  return error instanceof RateLimitError || error instanceof UnrecoverableError;
}

async function processJob(deps: ImportJobDeps, job: Job<ImportJobData>, signal: AbortSignal | undefined): Promise<JobOutcomeName> {
  const data = job.data;
  const jobId = job.id ?? '(no id)';
  const started = Date.now();
  const attempts = Math.max(job.attemptsStarted, 1);
  const log = deps.logger.child({ runId: data.runId, jobId, userId: data.userId, credentialId: shortCredentialId(data.credentialId) });

  const finish = async (outcome: ImportOutcome, breakerCode: string | null, breakerReason?: string): Promise<JobOutcomeName> => {
    const { tripped } = await deps.runStore.recordOutcome(
      data.runId,
      {
        jobId,
        outcome: { ...outcome, attempts, at: deps.now().toISOString() },
        breakerCode,
        breakerReason: breakerReason ?? outcome.message ?? breakerCode ?? undefined,
        breakerThreshold: BREAKER_THRESHOLD,
      },
      deps.now(),
    );
    const line = { outcome: outcome.outcome, status: outcome.httpStatus, attempts, durationMs: Date.now() - started, source: data.source };
    if (outcome.outcome === 'failed') log.warn({ ...line, message: outcome.message }, 'job failed');
    else log.info(line, 'job done');
    if (tripped) await deps.onBreakerTripped(breakerReason ?? outcome.message ?? breakerCode ?? 'tenant-wide failure', data);
    return outcome.outcome;
  };

  if (attempts > deps.maxStartedAttempts) {
    await finish(
      { outcome: 'failed', httpStatus: null, message: `Gave up after ${attempts - 1} starts: the job kept being put back (STA throttling with 429, a circuit breaker, stalled or stopped workers).`, staId: null, staState: null },
      null,
    );
    throw new UnrecoverableError('started too many times');
  }

  const result = await unlessAborted(
    jobLogContext.run({ runId: data.runId, jobId, credentialId: shortCredentialId(data.credentialId) }, () =>
      importAuthenticator(
        data,
        { firstAttempt: attempts === 1, earlierAttemptMayHaveSent: attempts > 1, enqueuedAtMs: job.timestamp },
        { sta: deps.sta, onTransportRetry: (error, retriesLeft) => { log.debug({ error: error.message, retriesLeft }, 'transport retry'); } },
      ),
    ),
    signal,
  );
  if (result === ABORTED) {
    // Shutdown ran out of time (the worker cancelled its jobs): back to the queue for another
    // worker, no attempt spent. If the request reached STA, the re-send meets it (409 path).
    log.warn('shutdown timeout: job left mid-request; back to the queue');
    throw new RateLimitError();
  }
  switch (result.kind) {
    case 'done': {
      const { breakerCode } = result;
      if (breakerCode !== null && (await deps.breakerTripped())) {
        // The run is stopping for a tenant-wide failure (bad key, import disabled, …) that this
        // record is not to blame for: back to the (paused) queue, no attempt spent, so that it
        // is imported once the cause is fixed and the queue resumes. Pausing again is harmless and
        // covers a tripping process that died before it paused the queue.
        log.info({ reason: breakerCode }, 'circuit breaker is open; job goes back to the queue');
        await deps.pauseQueue();
        throw new RateLimitError();
      }
      const outcome = await finish(
        result.outcome,
        breakerCode,
        breakerCode === null ? undefined : `tenant ‘${data.tenantCode}’: ${result.outcome.message ?? result.breakerCode ?? ''}`,
      );
      // A failed job stays in BullMQ's failed set (for `retry` and the dashboard), with STA's
      // message as its reason; every other outcome completes and is removed.
      if (outcome === 'failed') throw new UnrecoverableError(result.outcome.message ?? `HTTP ${String(result.outcome.httpStatus)}`);
      return outcome;
    }
    case 'retry': {
      const maxAttempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= maxAttempts) {
        await finish(
          {
            outcome: 'failed',
            httpStatus: result.error.status,
            message: `${result.error.staMessage ?? result.error.message} (after ${maxAttempts} attempts)`,
            staId: null,
            staState: null,
          },
          null,
        );
        throw new UnrecoverableError(result.error.message);
      }
      log.info({ error: result.error.message, attemptsMade: job.attemptsMade + 1 }, 'transient failure; will retry');
      throw result.error;
    }
    case 'rate-limited': {
      const waitMs = effectiveRetryAfterMs(result.retryAfterMs);
      log.info({ retryAfterMs: waitMs }, 'STA throttled (429); holding the queue');
      await deps.holdFor(waitMs);
      throw new RateLimitError();
    }
  }
}

const ABORTED = Symbol('aborted');

/** `work`'s result, or ABORTED as soon as `signal` aborts (the work itself is left to settle unobserved). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (!signal) return work;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      resolve(ABORTED);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
