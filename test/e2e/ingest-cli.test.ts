/**
 * `sta-migrate ingest` as a user runs it: a child process on the built dist/ (built by the
 * global setup when stale), the test Redis under a fresh QUEUE_PREFIX for real ingests, and an
 * unreachable Redis for dry runs (which must not touch it).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/run/run-store.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { DIRTY_FIXTURES, SAMPLE_EXPORT_PATHS } from '../helpers/fixture-paths.js';
import { connectRedis, deletePrefix, freshPrefix, REDIS_URL } from '../helpers/redis.js';

const TENANT = 'DEMO';
/** Nothing listens on port 1: a dry run that tried Redis would fail with exit 2. */
const NO_REDIS = 'redis://127.0.0.1:1';
const STACK_LINE = /^\s+at /m;

interface ReportJson {
  readonly runId: string;
  readonly files: readonly string[];
  readonly summary: { readonly total: number; readonly invalid: number; readonly pending: number };
  readonly records: readonly { readonly source: string; readonly outcome: string; readonly message: string | null; readonly tenantCode: string | null }[];
}

let redis: Redis;
let reportDir = '';
const prefixes: string[] = [];

beforeAll(async () => {
  redis = connectRedis();
  reportDir = await mkdtemp(join(tmpdir(), 'ingest-cli-'));
}, 120_000);

afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deletePrefix(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
  await rm(reportDir, { recursive: true, force: true });
});

function ingest(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['ingest', ...args], { env: { STA_TENANT: TENANT, REPORT_DIR: reportDir, REDIS_URL: NO_REDIS, ...env }, timeoutMs: 60_000 });
}

async function readReport(runId: string): Promise<ReportJson> {
  return JSON.parse(await readFile(join(reportDir, runId, 'report.json'), 'utf8')) as ReportJson;
}

function expectCleanFailure(result: CliResult, message: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(STACK_LINE);
  expect(result.stderr).not.toMatch(/unexpected error/);
}

// Each dry run is its own process with its own run id: run them side by side.
describe.concurrent('sta-migrate ingest --dry-run', () => {
  it('exits 0 when every record is valid, writes every record to the report, and never connects to Redis', async () => {
    const result = await ingest(['--dry-run', '--run', 'dry-ok', SAMPLE_EXPORT_PATHS.csv]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Run dry-ok: 50 record\(s\)/);
    expect(result.stdout).toMatch(/Dry run: nothing was sent to Redis or STA/);
    expect(result.stdout).toContain(join(reportDir, 'dry-ok', 'report.json'));
    expect(result.stderr).not.toMatch(STACK_LINE);

    const report = await readReport('dry-ok');
    expect(report.summary).toMatchObject({ total: 50, pending: 50, invalid: 0 });
    expect(report.records.map((record) => record.source)).toEqual(Array.from({ length: 50 }, (_, index) => `${SAMPLE_EXPORT_PATHS.csv}:${index + 2}`));
    expect(new Set(report.records.map((record) => record.tenantCode))).toEqual(new Set([TENANT]));
  });

  it('exits 1 when some records are invalid, and reports each of them with its reason', async () => {
    const path = DIRTY_FIXTURES.badRowAmongGood.path;
    const result = await ingest(['--dry-run', '--run', 'dry-bad', path]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/invalid\s+2/);
    expect(result.stderr).not.toMatch(STACK_LINE);

    const report = await readReport('dry-bad');
    expect(report.records.map((record) => [record.source, record.outcome])).toEqual([
      [`${path}:1`, 'pending'],
      [`${path}:2`, 'pending'],
      [`${path}:3`, 'invalid'],
      [`${path}:4`, 'pending'],
      [`${path}:5`, 'invalid'],
      [`${path}:6`, 'pending'],
      [`${path}:7`, 'pending'],
    ]);
    expect(report.records[2]?.message).toMatch(/^NDJSON: the line is not valid JSON/);
    expect(report.records[4]?.message).toBe('NDJSON: the line is an array, not a JSON object');
  });

  it('exits 1 when --rp-id names another relying party than the credentials were made for', async () => {
    const path = DIRTY_FIXTURES.bomCrlf.path;
    expect((await ingest(['--dry-run', '--run', 'dry-lenient', '--rp-id', 'login.example.com', path])).code).toBe(0);
    const wrongRp = await ingest(['--dry-run', '--run', 'dry-wrong-rp', '--rp-id', 'other.example.com', path]);
    expect(wrongRp.code).toBe(1);
    expect((await readReport('dry-wrong-rp')).records.every((record) => record.message?.startsWith('rpIdHash is not SHA-256') === true)).toBe(true);
  });

  it.each([
    ['a 0-byte file', DIRTY_FIXTURES.empty.path, /: the file is empty \(0 bytes\)/],
    ['binary garbage', DIRTY_FIXTURES.garbage.path, /: looks binary/],
    ['a missing required column', DIRTY_FIXTURES.missingColumn.path, /: required column\(s\) clientDataJson not found; the header has: userId, attestationObject/],
    ['a file that does not exist', join(reportDir, 'missing.csv'), /missing\.csv: no such file/],
  ])('exits 2 with one clear message and no stack trace for %s', async (_label, path, message) => {
    const result = await ingest(['--dry-run', '--run', 'dry-unreadable', path]);
    expectCleanFailure(result, message);
    expect(existsSync(join(reportDir, 'dry-unreadable'))).toBe(false);
  });

  it('exits 2 for a bad --map: malformed, unknown field, or a column the header lacks', async () => {
    expectCleanFailure(await ingest(['--dry-run', '--map', 'userId', SAMPLE_EXPORT_PATHS.csv]), /--map 'userId': expected field=column/);
    expectCleanFailure(await ingest(['--dry-run', '--map', 'owner=user_id', SAMPLE_EXPORT_PATHS.csv]), /--map 'owner=user_id': unknown field 'owner'/);
    expectCleanFailure(
      await ingest(['--dry-run', '--map', 'userId=nope', DIRTY_FIXTURES.renamedColumns.path]),
      /required column\(s\) userId \(--map userId=nope\), attestationObject, clientDataJson not found; the header has: user_id, attestation, client_data, name/,
    );
  });

  it('reads renamed columns with a good --map', async () => {
    const result = await ingest([
      '--dry-run',
      '--run',
      'dry-mapped',
      '--map',
      'userId=user_id',
      '--map',
      'attestationObject=attestation',
      '--map',
      'clientDataJson=client_data',
      '--map',
      'friendlyName=name',
      DIRTY_FIXTURES.renamedColumns.path,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readReport('dry-mapped')).summary).toMatchObject({ total: 4, pending: 4 });
  });

  it('exits 2 when --format does not match the content, or is not a format', async () => {
    expectCleanFailure(await ingest(['--dry-run', '--format', 'json', SAMPLE_EXPORT_PATHS.csv]), /sample\.csv: is not JSON \(--format json was given, but it starts with 'u'\)/);
    expectCleanFailure(await ingest(['--dry-run', '--format', 'csv', SAMPLE_EXPORT_PATHS.json]), /sample\.json: is read as CSV but looks like JSON/);
    expectCleanFailure(await ingest(['--dry-run', '--format', 'xml', SAMPLE_EXPORT_PATHS.csv]), /--format 'xml': expected csv, json, ndjson/);
  });

  it('reads a file with the format --format names, whatever its extension says', async () => {
    const result = await ingest(['--dry-run', '--run', 'dry-format', '--format', 'json', SAMPLE_EXPORT_PATHS.jsonWrapped]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readReport('dry-format')).summary).toMatchObject({ total: 10, pending: 10 });
  });
});

describe('sta-migrate ingest (into Redis)', () => {
  it('enqueues every valid record under a fresh QUEUE_PREFIX, prints the summary, and enqueues nothing on a second ingest of the same file', async () => {
    const prefix = freshPrefix('e2e-ingest');
    prefixes.push(prefix);
    const env = { REDIS_URL, QUEUE_PREFIX: prefix };
    const path = DIRTY_FIXTURES.badRowAmongGood.path;

    const first = await ingest(['--run', 'e2e-run', path], env);
    expect(first.code, first.stderr).toBe(1); // two invalid lines
    expect(first.stdout).toContain('Run e2e-run: read 7 record(s) this time — 5 enqueued, 2 invalid, 0 duplicate.');
    expect(first.stdout).toContain('The run now holds 7 record(s); 5 job(s) waiting for workers');
    expect(first.stderr).not.toMatch(STACK_LINE);

    const store = new RunStore(redis, prefix);
    expect(await store.getCounts('e2e-run')).toMatchObject({ total: 7, enqueued: 5, invalid: 2, pending: 5 });
    expect(await redis.llen(`${prefix}:import:wait`)).toBe(5);

    const again = await ingest(['--run', 'e2e-run', path], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('read 0 record(s) this time — 0 enqueued, 0 invalid, 0 duplicate; 1 file(s) already ingested.');
    expect(again.stdout).toContain('already ingested into run e2e-run (same content); nothing new to enqueue');
    expect(await store.recordCount('e2e-run')).toBe(7);
    expect(await redis.llen(`${prefix}:import:wait`)).toBe(5);
  });

  it('exits 2 with a clear message when Redis does not answer', async () => {
    expectCleanFailure(await ingest(['--run', 'no-redis', SAMPLE_EXPORT_PATHS.csv]), /Redis at redis:\/\/127\.0\.0\.1:1\/? is not reachable/);
  });
});
