import { RateLimitError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { importAuthenticator, type ImportOutcome } from '../src/importer/import-authenticator.js';
import { BREAKER_THRESHOLD, effectiveRetryAfterMs } from '../src/importer/retry-policy.js';
import type { ImportJobData } from '../src/queue/import-queue.js';
import type { JobOutcomeName } from '../src/run/outcome.js';
import type { RunStore } from '../src/run/run-store.js';
import type { StaClient } from '../src/sta/sta-client.js';

export interface ImportJobDeps {
  /** STA client whose `beforeRequest` waits on the global rate limiter. */
  readonly sta: Pick<StaClient, 'createAuthenticator' | 'getAuthenticator'>;
  readonly runStore: Pick<RunStore, 'recordOutcome'>;
  /** Holds every worker for a 429's Retry-After: the shared limiter and BullMQ's queue limit. */
  readonly holdFor: (ms: number) => Promise<void>;
  /** Stops the queue when the circuit breaker trips. */
  readonly onBreakerTripped: (reason: string, job: ImportJobData) => Promise<void>;
  /** Starts (429 re-deliveries and stalls included) after which a job is given up. */
  readonly maxStartedAttempts: number;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * BullMQ handler for one import job: payload → importAuthenticator → ledger. Throws only to steer
 * BullMQ: an Error to retry with backoff, RateLimitError to wait without spending an attempt,
 * UnrecoverableError to keep a `failed` job in the failed set (after writing its outcome).
 */
export function createImportJobHandler(deps: ImportJobDeps): (job: Job<ImportJobData>) => Promise<JobOutcomeName> {
  return async (job) => {
    const data = job.data;
    const jobId = job.id ?? '(no id)';
    const started = Date.now();
    const attempts = Math.max(job.attemptsStarted, 1);
    const log = deps.logger.child({ runId: data.runId, jobId, userId: data.userId, credentialId: shortId(data.credentialId) });

    const finish = async (outcome: ImportOutcome, breakerCode: string | null): Promise<JobOutcomeName> => {
      const { tripped } = await deps.runStore.recordOutcome(
        data.runId,
        {
          jobId,
          outcome: { ...outcome, attempts, at: deps.now().toISOString() },
          breakerCode,
          breakerReason: outcome.message ?? breakerCode ?? undefined,
          breakerThreshold: BREAKER_THRESHOLD,
        },
        deps.now(),
      );
      const line = { outcome: outcome.outcome, status: outcome.httpStatus, attempts, durationMs: Date.now() - started, source: data.source };
      if (outcome.outcome === 'failed') log.warn({ ...line, message: outcome.message }, 'job failed');
      else log.info(line, 'job done');
      if (tripped) await deps.onBreakerTripped(outcome.message ?? breakerCode ?? 'tenant-wide failure', data);
      return outcome.outcome;
    };

    if (attempts > deps.maxStartedAttempts) {
      await finish(
        { outcome: 'failed', httpStatus: 429, message: `Gave up after ${attempts - 1} starts: STA kept throttling (429).`, staId: null, staState: null },
        null,
      );
      throw new UnrecoverableError('started too many times');
    }

    const result = await importAuthenticator(
      data,
      { firstAttempt: job.attemptsMade === 0, earlierAttemptMayHaveSent: attempts > 1, enqueuedAtMs: job.timestamp },
      { sta: deps.sta, onTransportRetry: (error, retriesLeft) => { log.debug({ error: error.message, retriesLeft }, 'transport retry'); } },
    );
    switch (result.kind) {
      case 'done': {
        const outcome = await finish(result.outcome, result.breakerCode);
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
  };
}

/** First 12 characters: enough to find a credential, short enough for log lines. */
function shortId(credentialId: string): string {
  return credentialId.length > 12 ? `${credentialId.slice(0, 12)}…` : credentialId;
}
