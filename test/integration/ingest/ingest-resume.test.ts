import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inspectExportFile, type ExportFile } from '../../../src/ingest/export-file.js';
import { IngestAbortedError, ingestFiles, type EnqueueJob, type IngestSink } from '../../../src/ingest/ingest-pipeline.js';
import { RedisIngestSink } from '../../../src/ingest/redis-ingest-sink.js';
import { IngestLockedError } from '../../../src/ingest/run-ingest.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';
import type { Claim } from '../../../src/run/run-store.js';
import { SAMPLE_EXPORT_PATHS } from '../../helpers/fixture-paths.js';
import { IngestHarness, outcomesOf, PREFLIGHT } from './ingest-harness.js';

let harness: IngestHarness;
beforeEach(() => {
  harness = new IngestHarness();
});
afterEach(async () => {
  await harness.close();
});

let dir = '';
/** sample.csv (50 records, lines 2-51) plus line 15 repeated at line 52: a duplicate whose holder is in the second batch of 10. */
let withDuplicate = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-resume-'));
  const lines = (await readFile(SAMPLE_EXPORT_PATHS.csv, 'utf8')).split('\n').filter((line) => line !== '');
  withDuplicate = join(dir, 'with-duplicate.csv');
  await writeFile(withDuplicate, `${[...lines, lines[14] ?? ''].join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The run's records with the run id taken out of job ids, to compare runs. */
function comparable(entries: readonly RecordEntry[], runId: string): RecordEntry[] {
  return entries.map((entry) => ({ ...entry, jobId: entry.jobId?.replace(`${runId}.`, '') ?? null }));
}

/** The same file ingested in one go into another run: what an interrupted run must end up as. */
async function reference(path: string): Promise<RecordEntry[]> {
  await harness.ingest([path], { runId: 'reference' });
  return comparable(await harness.records('reference'), 'reference');
}

/** Every job of `runId` (job ids start with the run id). */
async function jobsOf(runId: string): Promise<string[]> {
  return (await harness.jobIds()).filter((id) => id.startsWith(`${runId}.`));
}

/** A RedisIngestSink that fails the n-th commit, after that batch's claims and jobs went to Redis: a crash between enqueue and commit. */
class CrashingSink implements IngestSink {
  readonly #inner: RedisIngestSink;
  readonly #crashOnCommit: number;
  #commits = 0;

  constructor(inner: RedisIngestSink, crashOnCommit: number) {
    this.#inner = inner;
    this.#crashOnCommit = crashOnCommit;
  }

  beginFile(file: ExportFile): Promise<{ done: boolean; committed: number }> {
    return this.#inner.beginFile(file);
  }

  claim(claims: readonly Claim[]): Promise<(string | null)[]> {
    return this.#inner.claim(claims);
  }

  enqueue(jobs: readonly EnqueueJob[]): Promise<void> {
    return this.#inner.enqueue(jobs);
  }

  commit(file: ExportFile, entries: readonly RecordEntry[], committed: number, done: boolean): Promise<void> {
    this.#commits += 1;
    if (this.#commits === this.#crashOnCommit) return Promise.reject(new Error('simulated crash before commit'));
    return this.#inner.commit(file, entries, committed, done);
  }
}

describe('interrupted ingest, resumed', () => {
  it('stops after the first batch when its signal aborts, and the next ingest resumes with every record and job exactly once', async () => {
    const expected = await reference(withDuplicate);
    const runId = 'aborted';
    const controller = new AbortController();
    const interrupted = harness.ingest([withDuplicate], {
      runId,
      batchSize: 10,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === 'batch') controller.abort();
      },
    });
    await expect(interrupted).rejects.toBeInstanceOf(IngestAbortedError);
    expect(await harness.store.recordCount(runId)).toBe(10);
    expect(await jobsOf(runId)).toHaveLength(10);
    expect((await harness.store.getManifest(runId))?.ingestDone).toBe(false);
    expect((await harness.store.getFiles(runId)).map((file) => [file.recordsCommitted, file.done])).toEqual([[10, false]]);

    const resumed = await harness.ingest([withDuplicate], { runId, batchSize: 10 });
    expect(resumed).toMatchObject({ read: 41, resumedAfter: 10, valid: 40, duplicate: 1 });
    const entries = await harness.records(runId);
    expect(comparable(entries, runId)).toEqual(expected);
    expect(await jobsOf(runId)).toEqual(entries.flatMap((entry) => (entry.jobId ? [entry.jobId] : [])).sort());
    expect(await harness.store.getCounts(runId)).toMatchObject({ total: 51, enqueued: 50, duplicate: 1, invalid: 0 });
    expect((await harness.store.getManifest(runId))?.ingestDone).toBe(true);
  });

  it('recovers from a crash between enqueue and commit: its own claims are not duplicates, its jobs are not doubled', async () => {
    const expected = await reference(withDuplicate);
    const runId = 'crashed';
    const file = await inspectExportFile(withDuplicate, { map: {} });
    await harness.store.ensureRun(runId, { ...PREFLIGHT, map: {} }, new Date());
    const sink = new CrashingSink(new RedisIngestSink(harness.store, harness.queue, { runId, maxWaiting: 50_000 }), 2);
    await expect(ingestFiles([file], harness.ingestOptions({ runId, batchSize: 10 }), sink)).rejects.toThrow('simulated crash before commit');
    // Batch 2 (lines 12-21) reached the queue and the claims, not the records.
    expect(await harness.store.recordCount(runId)).toBe(10);
    expect(await jobsOf(runId)).toHaveLength(20);

    const resumed = await harness.ingest([withDuplicate], { runId, batchSize: 10 });
    expect(resumed).toMatchObject({ resumedAfter: 10, read: 41, duplicate: 1 });
    const entries = await harness.records(runId);
    expect(comparable(entries, runId)).toEqual(expected);
    expect(outcomesOf(entries).filter(([, outcome]) => outcome === 'duplicate')).toEqual([[`${withDuplicate}:52`, 'duplicate']]);
    expect(entries.find((entry) => entry.source === `${withDuplicate}:15`)?.ingestOutcome).toBe('pending');
    expect(await jobsOf(runId)).toEqual(entries.flatMap((entry) => (entry.jobId ? [entry.jobId] : [])).sort());
  });
});

describe('ingest lock', () => {
  it('refuses an ingest while another process holds the run, and writes nothing', async () => {
    const runId = 'held';
    await harness.store.ensureRun(runId, { ...PREFLIGHT, map: {} }, new Date());
    expect(await harness.store.acquireIngestLock(runId, 'another-process', 60_000)).toBe(true);
    const refused = harness.ingest([SAMPLE_EXPORT_PATHS.csv], { runId });
    await expect(refused).rejects.toBeInstanceOf(IngestLockedError);
    await expect(refused).rejects.toThrow(`another ingest is writing run '${runId}'`);
    expect(await harness.store.recordCount(runId)).toBe(0);
    expect(await jobsOf(runId)).toEqual([]);

    await harness.store.releaseIngestLock(runId, 'another-process');
    expect((await harness.ingest([SAMPLE_EXPORT_PATHS.csv], { runId })).read).toBe(50);
  });

  it('refuses a second concurrent ingest of the same run, and frees the run when the first stops', async () => {
    const runId = 'concurrent';
    const controller = new AbortController();
    let paused: () => void = () => undefined;
    const pausedOnce = new Promise<void>((resolve) => {
      paused = resolve;
    });
    // No workers: the first ingest fills the high-water mark with its first batch and waits.
    const first = harness.ingest([SAMPLE_EXPORT_PATHS.csv], {
      runId,
      batchSize: 10,
      maxWaiting: 10,
      signal: controller.signal,
      onBackpressure: (event) => {
        if (event.kind === 'paused') paused();
      },
    });
    const firstSettled = first.catch((error: unknown) => error);
    await pausedOnce;

    await expect(harness.ingest([SAMPLE_EXPORT_PATHS.json], { runId })).rejects.toBeInstanceOf(IngestLockedError);
    await expect(harness.ingest([SAMPLE_EXPORT_PATHS.csv], { runId })).rejects.toBeInstanceOf(IngestLockedError);

    controller.abort();
    expect(await firstSettled).toBeInstanceOf(IngestAbortedError);
    expect(await harness.store.recordCount(runId)).toBe(10);

    const rest = await harness.ingest([SAMPLE_EXPORT_PATHS.csv], { runId });
    expect(rest).toMatchObject({ read: 40, resumedAfter: 10 });
    const entries = await harness.records(runId);
    expect(new Set(entries.map((entry) => entry.source)).size).toBe(50);
    expect(await jobsOf(runId)).toHaveLength(50);
  });
});
