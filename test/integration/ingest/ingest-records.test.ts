import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dirtyGeneratedRecords } from '../../../fixtures/dirty-exports.js';
import { SAMPLE_EXPORTS, sampleRecords } from '../../../fixtures/sample-exports.js';
import { importJobId } from '../../../src/queue/import-queue.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';
import { DIRTY_FIXTURES, SAMPLE_EXPORT_PATHS } from '../../helpers/fixture-paths.js';
import { IngestHarness, outcomesOf, TENANT } from './ingest-harness.js';

const RENAMED_MAP = { userId: 'user_id', attestationObject: 'attestation', clientDataJson: 'client_data', friendlyName: 'name' } as const;

interface DirtyCase {
  readonly name: string;
  readonly path: string;
  readonly map?: typeof RENAMED_MAP;
  /** `[source suffix, outcome]` per record, in file order. */
  readonly expected: readonly (readonly [string, 'pending' | 'invalid'])[];
  /** Credential ids of the good records, from the generator that wrote the file. */
  readonly credentials: readonly string[];
  /** Message of each invalid record, by source suffix. */
  readonly messages?: Readonly<Record<string, RegExp>>;
}

const pick = <T>(items: readonly T[], indexes: readonly number[]): T[] => indexes.map((index) => items[index] as T);
const credentialIds = (fileNumber: number, count: number, indexes: readonly number[]) => pick(dirtyGeneratedRecords(fileNumber, count), indexes).map((record) => record.credentialId);

/**
 * What each readable dirty fixture must become. unterminated-quote.csv: the reader recovers the
 * well-formed row after the broken one (line 6), so 4 good records where fixtures/dirty-exports.ts
 * says 3 (it assumed the row is swallowed).
 */
const DIRTY_CASES: readonly DirtyCase[] = [
  {
    name: 'bom-crlf.csv',
    path: DIRTY_FIXTURES.bomCrlf.path,
    expected: [[':2', 'pending'], [':3', 'pending'], [':4', 'pending'], [':5', 'pending'], [':6', 'pending']],
    credentials: credentialIds(1, 5, [0, 1, 2, 3, 4]),
  },
  {
    name: 'embedded-newlines.csv',
    path: DIRTY_FIXTURES.embeddedNewlines.path,
    expected: [[':2', 'pending'], [':3', 'pending'], [':5', 'pending']],
    credentials: credentialIds(2, 3, [0, 1, 2]),
  },
  {
    name: 'unterminated-quote.csv',
    path: DIRTY_FIXTURES.unterminatedQuote.path,
    expected: [[':2', 'pending'], [':3', 'pending'], [':4', 'pending'], [':5', 'invalid'], [':6', 'pending']],
    credentials: credentialIds(3, 5, [0, 1, 2, 4]),
    messages: { ':5': /^CSV: a quoted field is never closed \(unterminated quote\)/ },
  },
  {
    name: 'bad-row-among-good.ndjson',
    path: DIRTY_FIXTURES.badRowAmongGood.path,
    expected: [[':1', 'pending'], [':2', 'pending'], [':3', 'invalid'], [':4', 'pending'], [':5', 'invalid'], [':6', 'pending'], [':7', 'pending']],
    credentials: credentialIds(4, 7, [0, 1, 3, 5, 6]),
    messages: { ':3': /^NDJSON: the line is not valid JSON/, ':5': /^NDJSON: the line is an array, not a JSON object$/ },
  },
  {
    name: 'truncated.json',
    path: DIRTY_FIXTURES.truncatedJson.path,
    expected: [[':#0', 'pending'], [':#1', 'pending'], [':#2', 'pending'], [':#3', 'invalid']],
    credentials: credentialIds(5, 4, [0, 1, 2]),
    messages: { ':#3': /^JSON: the document is cut off or malformed after 3 record\(s\)/ },
  },
  { name: 'header-only.csv', path: DIRTY_FIXTURES.headerOnly.path, expected: [], credentials: [] },
  {
    name: 'renamed-columns.csv (with --map)',
    path: DIRTY_FIXTURES.renamedColumns.path,
    map: RENAMED_MAP,
    expected: [[':2', 'pending'], [':3', 'pending'], [':4', 'pending'], [':5', 'pending']],
    credentials: credentialIds(7, 4, [0, 1, 2, 3]),
  },
];

let harness: IngestHarness;
beforeEach(() => {
  harness = new IngestHarness();
});
afterEach(async () => {
  await harness.close();
});

/** Checks that every pending record has exactly its job, with the payload of that record. */
async function expectJobsFor(runId: string, entries: readonly RecordEntry[]): Promise<void> {
  const pending = entries.filter((entry) => entry.ingestOutcome === 'pending');
  expect(await harness.jobIds()).toEqual(pending.map((entry) => entry.jobId).sort());
  for (const entry of pending) {
    expect(entry.jobId).toBe(importJobId(runId, entry.tenantCode ?? '', entry.userId ?? '', entry.credentialId ?? ''));
    const job = await harness.queue.getJob(entry.jobId ?? '');
    expect(job?.data).toMatchObject({ runId, source: entry.source, tenantCode: entry.tenantCode, userId: entry.userId, credentialId: entry.credentialId });
  }
  for (const entry of entries.filter((other) => other.ingestOutcome !== 'pending')) expect(entry.jobId).toBeNull();
}

describe('ingest into Redis: every record of every dirty fixture exactly once', () => {
  it.each(DIRTY_CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    const runId = 'dirty-run';
    const totals = await harness.ingest([testCase.path], { runId, ...(testCase.map ? { map: testCase.map } : {}), batchSize: 2 });

    const entries = await harness.records(runId);
    expect(outcomesOf(entries)).toEqual(testCase.expected.map(([suffix, outcome]) => [`${testCase.path}${suffix}`, outcome]));
    expect(totals.read).toBe(entries.length);
    const counts = await harness.store.getCounts(runId);
    expect(counts).toMatchObject({ total: entries.length, enqueued: totals.valid, invalid: totals.invalid, duplicate: 0, pending: totals.valid });
    expect(entries.filter((entry) => entry.ingestOutcome === 'pending').map((entry) => entry.credentialId)).toEqual(testCase.credentials);
    for (const entry of entries.filter((other) => other.ingestOutcome === 'pending')) expect(entry.tenantCode).toBe(TENANT);
    for (const [suffix, message] of Object.entries(testCase.messages ?? {})) {
      expect(entries.find((entry) => entry.source === `${testCase.path}${suffix}`)?.message).toMatch(message);
    }
    await expectJobsFor(runId, entries);

    const manifest = await harness.store.getManifest(runId);
    expect(manifest?.ingestDone).toBe(true);
    const content = await readFile(testCase.path);
    expect(await harness.store.getFiles(runId)).toEqual([
      expect.objectContaining({ path: testCase.path, sha256: createHash('sha256').update(content).digest('hex'), bytes: content.length, recordsCommitted: entries.length, done: true }),
    ]);
  });

  it('reads all readable dirty fixtures and the samples into one run, in file order, each record once', async () => {
    const paths = [...DIRTY_CASES.filter((testCase) => testCase.map === undefined).map((testCase) => testCase.path), ...Object.values(SAMPLE_EXPORT_PATHS)];
    const totals = await harness.ingest(paths, { runId: 'everything', batchSize: 7 });
    const entries = await harness.records('everything');
    expect(entries).toHaveLength(totals.read);
    expect(new Set(entries.map((entry) => entry.source)).size).toBe(entries.length);
    const sampleCount = SAMPLE_EXPORTS.reduce((sum, sample) => sum + sample.options.count, 0);
    const dirtyCount = DIRTY_CASES.filter((testCase) => testCase.map === undefined).reduce((sum, testCase) => sum + testCase.expected.length, 0);
    expect(totals.read).toBe(sampleCount + dirtyCount);
    expect(totals.duplicate).toBe(0);
    // Sources come file by file, in the order given.
    const fileOrder = entries.map((entry) => paths.findIndex((path) => entry.source.startsWith(`${path}:`)));
    expect(fileOrder).toEqual([...fileOrder].sort((a, b) => a - b));
    await expectJobsFor('everything', entries);
  });
});

describe('re-ingest, job ids and duplicates', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingest-records-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds no job and no record when the same file is ingested into the same run again', async () => {
    const first = await harness.ingest([SAMPLE_EXPORT_PATHS.csv], { runId: 'again', batchSize: 8 });
    const recordsBefore = await harness.records('again');
    const jobsBefore = await harness.jobIds();
    expect(first.valid).toBe(50);
    expect(jobsBefore).toHaveLength(50);

    const second = await harness.ingest([SAMPLE_EXPORT_PATHS.csv], { runId: 'again', batchSize: 8 });
    expect(second).toEqual({ read: 0, valid: 0, invalid: 0, duplicate: 0, skippedFiles: [SAMPLE_EXPORT_PATHS.csv], resumedAfter: 0 });
    expect(await harness.records('again')).toEqual(recordsBefore);
    expect(await harness.jobIds()).toEqual(jobsBefore);
    expect(await harness.store.getCounts('again')).toMatchObject({ total: 50, enqueued: 50 });
  });

  it('derives job ids from run, tenant, user and credential only: the same in another run of the same file, apart from the run', async () => {
    await harness.ingest([SAMPLE_EXPORT_PATHS.ndjson], { runId: 'run-a' });
    await harness.ingest([SAMPLE_EXPORT_PATHS.ndjson], { runId: 'run-b', batchSize: 3 });
    const a = await harness.records('run-a');
    const b = await harness.records('run-b');
    const expected = sampleRecords(SAMPLE_EXPORTS[2]!).map((record) => importJobId('run-a', TENANT, record.userId, record.credentialId));
    expect(a.map((entry) => entry.jobId)).toEqual(expected);
    expect(b.map((entry) => entry.jobId?.replace(/^run-b\./, 'run-a.'))).toEqual(expected);
    expect(await harness.jobIds()).toHaveLength(100);
  });

  it('marks later records of a credential already in the run as duplicates, across files and within one, per tenant', async () => {
    const lines = (await readFile(SAMPLE_EXPORT_PATHS.csv, 'utf8')).split('\n');
    const header = lines[0] ?? '';
    const row = (line: number) => lines[line - 1] ?? '';
    const withTenant = (text: string, tenant: string) => {
      const cells = text.split(',');
      cells[4] = tenant; // tenantCode column
      return cells.join(',');
    };
    const extra = sampleRecords(SAMPLE_EXPORTS[1]!)[0]!;
    const second = join(dir, 'second.csv');
    await writeFile(
      second,
      [header, row(3), row(10), `${extra.userId},${extra.attestationObject},${extra.clientDataJson},New key,,cms-x,active`, row(3), withTenant(row(4), 'OTHER'), ''].join('\n'),
    );

    const totals = await harness.ingest([SAMPLE_EXPORT_PATHS.csv, second], { runId: 'dups', batchSize: 4 });
    expect(totals).toMatchObject({ read: 55, valid: 52, duplicate: 3, invalid: 0 });
    const entries = (await harness.records('dups')).slice(50);
    expect(entries.map((entry) => [entry.source, entry.ingestOutcome, entry.message, entry.tenantCode])).toEqual([
      [`${second}:2`, 'duplicate', `same credential as ${SAMPLE_EXPORT_PATHS.csv}:3; only the first is imported`, TENANT],
      [`${second}:3`, 'duplicate', `same credential as ${SAMPLE_EXPORT_PATHS.csv}:10; only the first is imported`, TENANT],
      [`${second}:4`, 'pending', null, TENANT],
      [`${second}:5`, 'duplicate', `same credential as ${SAMPLE_EXPORT_PATHS.csv}:3; only the first is imported`, TENANT],
      [`${second}:6`, 'pending', null, 'OTHER'],
    ]);
    expect(await harness.store.getCounts('dups')).toMatchObject({ total: 55, enqueued: 52, duplicate: 3, pending: 52 });
    await expectJobsFor('dups', await harness.records('dups'));
  });
});
