import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { IngestAbortedError, type IngestEvent } from '../ingest/ingest-pipeline.js';
import { runIngest } from '../ingest/run-ingest.js';
import type { ImportJobData } from '../queue/import-queue.js';
import { buildReport, type BuiltReport } from '../report/build-report.js';
import { exitCodeFor } from '../report/report-record.js';
import { verifyRun } from '../report/verify-run.js';
import { closeWorkerGracefully, startImportWorker } from '../worker/import-worker.js';
import { EXIT, writeLine, type ExitCode } from './cli-io.js';
import { formatSummary } from './console-summary.js';
import { createProgress } from './progress.js';
import { resumeAfterBreaker } from './queue-control.js';
import type { Runtime } from './runtime.js';
import type { PreparedIngest } from './shared-options.js';

export interface RunFlowParams {
  readonly prepared: PreparedIngest;
  readonly maxWaiting: number;
  readonly verify: boolean;
  /** How long in-flight jobs get to finish on shutdown, ms. */
  readonly shutdownTimeoutMs?: number;
  /** Worker lock duration, ms (tests shorten it). */
  readonly lockDurationMs?: number;
  /** Printed after the summary (the demo adds hints). */
  readonly note?: string;
}

export interface RunFlowResult {
  readonly exitCode: ExitCode;
  readonly report: BuiltReport | null;
}

const POLL_MS = 250;
/** Polls (× POLL_MS) with records pending and nothing left in the queue before the run stops waiting. */
const STRANDED_POLLS = 12;

/** No job of any run is waiting, running, delayed or paused. */
async function queueIsEmpty(queue: Queue<ImportJobData>): Promise<boolean> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
  return Object.values(counts).every((count) => count === 0);
}

/**
 * A one-off migration: ingest + in-process workers + wait until every job of the run has an
 * outcome + verify + report. Exit 0 all imported, 1 problems, 3 stopped by the circuit breaker.
 */
export async function executeRun(rt: Runtime, params: RunFlowParams): Promise<RunFlowResult> {
  const { prepared } = params;
  const { runId } = prepared;
  const [runStore, queue, sta, limiter] = [await rt.runStore(), await rt.queue(), await rt.staClient(), await rt.limiter()];
  await resumeAfterBreaker(queue, runStore, rt.logger);

  const worker = startImportWorker({
    connection: await rt.blockingRedis(),
    prefix: rt.config.redis.prefix,
    concurrency: rt.config.worker.concurrency,
    sta,
    runStore,
    limiter,
    queue,
    logger: rt.logger.child({ component: 'worker' }),
    ...(params.lockDurationMs ? { lockDurationMs: params.lockDurationMs, stalledIntervalMs: params.lockDurationMs } : {}),
  });
  let workerClosed = false;
  const closeWorker = async () => {
    if (workerClosed) return;
    workerClosed = true;
    if ((await closeWorkerGracefully(worker, params.shutdownTimeoutMs ?? 30_000)) === 'forced') await sta.destroy();
  };
  rt.defer(closeWorker);

  const stop = new AbortController();
  // Written from callbacks (signals, the ingest promise): a holder keeps type narrowing honest.
  const state: { interrupted: NodeJS.Signals | null; ingestDone: boolean; ingestError: Error | null } = {
    interrupted: null,
    ingestDone: false,
    ingestError: null,
  };
  const removeSignal = rt.io.onSignal((signal) => {
    if (state.interrupted) return;
    state.interrupted = signal;
    rt.logger.warn({ signal }, 'stopping: no new jobs start; in-flight requests finish');
    stop.abort();
  });
  const progress = createProgress({ stream: rt.io.stderr, logger: rt.logger, label: `run ${runId}` });
  rt.logger.info({ runId, files: prepared.files.map((file) => file.label), concurrency: rt.config.worker.concurrency, rateLimit: rt.config.sta.rateLimitPerSecond }, 'run started');

  const ingest = runIngest(
    { runStore, queue, now: () => new Date() },
    {
      files: prepared.files,
      ingest: { ...prepared.ingest, signal: stop.signal },
      runOptions: prepared.runOptions,
      maxWaiting: params.maxWaiting,
      onEvent: (event: IngestEvent) => {
        if (event.kind === 'file-skipped') progress.log(`${event.file.label}: already ingested into run ${runId} (same content); skipped`);
        if (event.kind === 'file-start' && event.resumeAt > 0) progress.log(`${event.file.label}: resuming after record ${event.resumeAt}`);
      },
      onBackpressure: (event) => {
        rt.logger.info(event, event.kind === 'paused' ? `ingest paused: ${event.outstanding} jobs waiting (high-water mark ${event.highWaterMark})` : 'ingest resumed');
      },
    },
  ).then(
    () => {
      state.ingestDone = true;
    },
    (error: unknown) => {
      if (!(error instanceof IngestAbortedError)) state.ingestError = error instanceof Error ? error : new Error(String(error));
      state.ingestDone = true;
    },
  );

  let breakerReason: string | null = null;
  let emptyPolls = 0;
  let stranded = 0;
  for (;;) {
    const counts = await runStore.getCounts(runId);
    progress.update({
      done: counts.total - counts.pending,
      total: counts.total,
      failed: counts.failed + counts.invalid + counts.conflict,
    });
    if (state.ingestError !== null) break;
    const breaker = await runStore.getBreaker();
    if (breaker.tripped) {
      breakerReason = breaker.reason ?? breaker.code ?? 'tenant-wide failure';
      stop.abort();
      break;
    }
    if (state.interrupted) break;
    if (state.ingestDone && counts.pending === 0) break;
    if (state.ingestDone && (await queueIsEmpty(queue))) {
      // Records without an outcome while the queue holds no job at all: they can never finish
      // (a job lost to an evicting Redis, an outcome write that failed). Wait a little in case an
      // outcome is in flight, then stop; the report lists them as failed in the queue or lost.
      emptyPolls += 1;
      if (emptyPolls >= STRANDED_POLLS) {
        stranded = counts.pending;
        break;
      }
    } else {
      emptyPolls = 0;
    }
    await sleep(POLL_MS);
  }
  await ingest;
  progress.stop();
  removeSignal();
  await closeWorker();
  if (state.ingestError !== null) throw state.ingestError;

  if (breakerReason !== null) {
    await runStore.markAborted(runId, breakerReason);
    const report = await buildReport({ redis: await rt.redis(), runStore, queue, verify: null, reportDir: rt.config.report.dir, now: () => new Date() }, runId);
    writeLine(
      rt.io.stdout,
      formatSummary({
        runId,
        summary: report.summary,
        groups: report.groups,
        paths: report.paths,
        verified: false,
        note: `ABORTED by the circuit breaker: every recent STA call failed the same way — ${breakerReason}\nFix the cause, then run the same command with --run ${runId} to continue.`,
      }),
    );
    return { exitCode: EXIT.aborted, report };
  }

  const redis = await rt.redis();
  const { interrupted } = state;
  const finished = interrupted === null;
  if (finished) await runStore.markFinished(runId, new Date());
  const verify = finished && params.verify;
  const report = await buildReport(
    {
      redis,
      runStore,
      queue,
      verify: verify
        ? (id) =>
            verifyRun(
              { redis, runStore, sta, holdFor: (ms) => limiter.holdFor(ms), concurrency: rt.config.worker.concurrency, logger: rt.logger },
              id,
            )
        : null,
      reportDir: rt.config.report.dir,
      now: () => new Date(),
    },
    runId,
  );
  const strandedNote =
    stranded > 0 ? `${stranded} record(s) have no outcome and no job left in the queue (see the report: failed in the queue, or lost).` : undefined;
  const note =
    interrupted !== null
      ? `Interrupted (${interrupted}). Records not finished are pending; continue with the same command and --run ${runId}.`
      : [strandedNote, params.note].filter(Boolean).join('\n') || undefined;
  writeLine(rt.io.stdout, formatSummary({ runId, summary: report.summary, groups: report.groups, paths: report.paths, verified: verify, ...(note ? { note } : {}) }));
  return { exitCode: interrupted !== null ? EXIT.problems : exitCodeFor(report.summary), report };
}
