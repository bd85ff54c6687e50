/**
 * `sta-migrate run` as a user runs it (child process, built dist/), against a simulator started
 * here and the test Redis under a fresh prefix. Needs `npm run build`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { STA_MESSAGES } from '../../src/sta/documented-messages.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { SAMPLE_EXPORT_PATHS } from '../helpers/fixture-paths.js';
import { connectRedis, deletePrefix, freshPrefix, REDIS_URL } from '../helpers/redis.js';

const TENANT = 'DEMO';
const API_KEY = 'e2e-run-key-5b1f0c';
const SAMPLE = SAMPLE_EXPORT_PATHS.csv;
const SAMPLE_RECORDS = 50;

/** The sample's user ids with their record counts, read from the CSV's first column. */
const sampleUsers: Map<string, number> = new Map();
for (const line of readFileSync(SAMPLE, 'utf8').split('\n').slice(1)) {
  const user = line.split(',')[0];
  if (user) sampleUsers.set(user, (sampleUsers.get(user) ?? 0) + 1);
}

let redis: Redis;
const cleanup: { prefixes: string[]; dirs: string[]; sims: RunningSimulator[] } = { prefixes: [], dirs: [], sims: [] };

beforeAll(() => {
  redis = connectRedis();
});

afterEach(async () => {
  for (const prefix of cleanup.prefixes.splice(0)) await deletePrefix(redis, prefix);
  await Promise.all(cleanup.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  await Promise.all(cleanup.sims.splice(0).map((sim) => sim.close()));
});

afterAll(async () => {
  await redis.quit();
});

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ apiKeys: [{ key: API_KEY, tenants: '*' }], ...options });
  cleanup.sims.push(sim);
  return sim;
}

/** A run's Redis prefix, run id and report folder. */
interface RunPlace {
  readonly prefix: string;
  readonly runId: string;
  readonly reportDir: string;
}

/** Runs `sta-migrate run <sample.csv>`, by default under a new prefix, run id and report folder. */
async function run(env: Record<string, string>, place?: RunPlace): Promise<CliResult & RunPlace> {
  let where = place ? { prefix: place.prefix, runId: place.runId, reportDir: place.reportDir } : undefined;
  if (!where) {
    const prefix = freshPrefix('e2e-run');
    cleanup.prefixes.push(prefix);
    const reportDir = await mkdtemp(join(tmpdir(), 'sta-run-'));
    cleanup.dirs.push(reportDir);
    where = { prefix, runId: `${prefix}-run`, reportDir };
  }
  const result = await runCli(['run', SAMPLE, '--run', where.runId], {
    env: { STA_API_KEY: API_KEY, STA_TENANT: TENANT, STA_RATE_LIMIT: '200', QUEUE_PREFIX: where.prefix, REDIS_URL, REPORT_DIR: where.reportDir, ...env },
    timeoutMs: 60_000,
  });
  return { ...result, ...where };
}

interface ReportJson {
  readonly summary: Record<string, number>;
  readonly records: readonly { readonly outcome: string; readonly userId: string; readonly httpStatus: number | null; readonly message: string | null }[];
}

async function readReport(reportDir: string, runId: string): Promise<ReportJson> {
  return JSON.parse(await readFile(join(reportDir, runId, 'report.json'), 'utf8')) as ReportJson;
}

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

function expectNoApiKey(result: CliResult): void {
  expect(result.stdout).not.toContain(API_KEY);
  expect(result.stderr).not.toContain(API_KEY);
}

describe('sta-migrate run', () => {
  it('exits 0 when every record of a clean export is imported, and writes the report', async () => {
    const sim = await simulator();
    const result = await run({ STA_BASE_URL: sim.url });

    expect(result.stderr).not.toContain('unexpected error');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Run ${result.runId}: ${SAMPLE_RECORDS} record(s)`);
    const report = await readReport(result.reportDir, result.runId);
    expect(report.summary).toMatchObject({ total: SAMPLE_RECORDS, imported: SAMPLE_RECORDS, failed: 0, pending: 0 });
    expect(sim.authenticators(TENANT)).toHaveLength(SAMPLE_RECORDS);
    expectNoApiKey(result);
  });

  it('exits 1 when some records fail, with STA status and message in the report', async () => {
    // One user of the export does not exist in STA: its records fail with 404.
    const [missing = '', ...present] = [...sampleUsers.keys()];
    const sim = await simulator({ users: present });
    const result = await run({ STA_BASE_URL: sim.url });

    expect(result.code).toBe(1);
    const report = await readReport(result.reportDir, result.runId);
    const failedRecords = report.records.filter((record) => record.outcome === 'failed');
    expect(failedRecords.map((record) => record.userId)).toEqual(Array.from({ length: sampleUsers.get(missing) ?? 0 }, () => missing));
    for (const record of failedRecords) {
      expect(record.httpStatus).toBe(404);
      expect(record.message).toMatch(/userId .* was not found\./);
    }
    expect(report.summary).toMatchObject({ total: SAMPLE_RECORDS, failed: failedRecords.length, imported: SAMPLE_RECORDS - failedRecords.length, pending: 0 });
    expectNoApiKey(result);
  });

  it('exits 3 with a clear message when the tenant has importing disabled (circuit breaker)', async () => {
    const sim = await simulator({ tenants: [{ code: TENANT, importDisabled: true }] });
    const result = await run({ STA_BASE_URL: sim.url });

    expect(result.code).toBe(3);
    expect(result.stdout).toContain('ABORTED by the circuit breaker');
    expect(result.stdout).toContain(STA_MESSAGES.importDisabled);
    expect(result.stdout).toContain(`--run ${result.runId}`);
    expect(sim.authenticators(TENANT)).toHaveLength(0);
    expectNoApiKey(result);
  });

  it('continues a run stopped by the circuit breaker once the cause is fixed: the records it held back are imported', async () => {
    const disabled = await simulator({ tenants: [{ code: TENANT, importDisabled: true }] });
    const stopped = await run({ STA_BASE_URL: disabled.url });
    expect(stopped.code).toBe(3);
    const before = (await readReport(stopped.reportDir, stopped.runId)).summary;
    expect(before['pending']).toBeGreaterThan(0);

    // "Fix the cause": the same run, against a tenant that allows importing.
    const fixed = await simulator();
    const continued = await run({ STA_BASE_URL: fixed.url }, stopped);
    const after = (await readReport(stopped.reportDir, stopped.runId)).summary;
    // Only the few records that met the failure before the breaker tripped stay failed.
    expect(after).toMatchObject({ total: SAMPLE_RECORDS, failed: before['failed'], pending: 0, imported: SAMPLE_RECORDS - (before['failed'] ?? 0) });
    expect(continued.code).toBe(1);
    expect(fixed.authenticators(TENANT)).toHaveLength(SAMPLE_RECORDS - (before['failed'] ?? 0));
  });

  it('exits 3 with a clear message when STA rejects the API key (circuit breaker), never printing the key', async () => {
    const sim = await simulator();
    const wrongKey = 'wrong-key-not-accepted-77';
    const result = await run({ STA_BASE_URL: sim.url, STA_API_KEY: wrongKey });

    expect(result.code).toBe(3);
    expect(result.stdout).toContain('ABORTED by the circuit breaker');
    expect(result.stdout).toContain(STA_MESSAGES.invalidCredentials);
    expect(result.stdout).not.toContain(wrongKey);
    expect(result.stderr).not.toContain(wrongKey);
    expect((await readReport(result.reportDir, result.runId)).summary['imported']).toBe(0);
  });

  it('exits 2 naming STA_BASE_URL when it is missing, without printing the API key', async () => {
    const result = await run({});

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('STA_BASE_URL');
    expectNoApiKey(result);
  });

  it('exits 2 when Redis does not answer', async () => {
    const sim = await simulator();
    const port = await closedPort();
    const result = await run({ STA_BASE_URL: sim.url, REDIS_URL: `redis://127.0.0.1:${port}` });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Redis at redis://127.0.0.1:${port}`);
    expect(result.stderr).toContain('not reachable');
    expect(sim.stats().requests.total).toBe(0);
    expectNoApiKey(result);
  });
});
