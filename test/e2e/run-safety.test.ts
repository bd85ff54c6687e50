/**
 * `run` and `ingest` refusing what would corrupt a run, and finishing when records can never
 * finish: unwritable report folder, same content twice, other options on a resumed run, a job lost
 * from the queue.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_QUEUE_NAME } from '../../src/queue/import-queue.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLE_EXPORT_PATHS } from '../helpers/fixture-paths.js';
import { connectRedis, deletePrefix, freshPrefix } from '../helpers/redis.js';

const KEY = 'run-safety-key-19c';
const STACK_LINE = /^\s+at /m;

describe('run safety', () => {
  let simulator: RunningSimulator;
  const dir = mkdtempSync(join(tmpdir(), 'run-safety-'));
  const prefixes: string[] = [];
  const env = (prefix: string, extra: Record<string, string> = {}) => ({
    STA_BASE_URL: simulator.url,
    STA_API_KEY: KEY,
    STA_TENANT: 'ACME',
    STA_RATE_LIMIT: '500',
    QUEUE_PREFIX: prefix,
    REPORT_DIR: join(dir, 'reports'),
    ...extra,
  });
  const prefix = () => {
    const value = freshPrefix('safety');
    prefixes.push(value);
    return value;
  };

  beforeAll(async () => {
    simulator = await startSimulator({ tenants: [{ code: 'ACME' }], apiKeys: [{ key: KEY, tenants: '*' }] });
  });

  afterAll(async () => {
    await simulator.close();
    const redis = connectRedis();
    for (const value of prefixes) await deletePrefix(redis, value);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start when the report folder cannot be written, before importing anything', async () => {
    for (const args of [['run', SAMPLE_EXPORT_PATHS.csv], ['ingest', SAMPLE_EXPORT_PATHS.csv, '--dry-run']]) {
      const result = await runCli(args, { env: env(prefix(), { REPORT_DIR: '/proc/sta-migrate-reports' }) });
      expect(result.code, result.stdout).toBe(2);
      expect(result.stderr).toContain('cannot write the report in /proc/sta-migrate-reports');
      expect(result.stderr).not.toMatch(STACK_LINE);
    }
    expect(simulator.stats().requests.total).toBe(0);
  });

  it('refuses two files with the same content in one command', async () => {
    const copy = join(dir, 'copy.csv');
    copyFileSync(SAMPLE_EXPORT_PATHS.csv, copy);
    const result = await runCli(['ingest', SAMPLE_EXPORT_PATHS.csv, copy, '--dry-run'], { env: env(prefix()) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('have the same content; pass one of them');
  });

  it('refuses to continue a run with other pre-flight options', async () => {
    const own = prefix();
    const first = await runCli(['ingest', SAMPLE_EXPORT_PATHS.csv, '--run', 'opts'], { env: env(own) });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['ingest', SAMPLE_EXPORT_PATHS.json, '--run', 'opts', '--strict'], { env: env(own) });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("run 'opts' was ingested with other options (--strict was false, now true)");
  });

  it('stops waiting for a record whose job left the queue without an outcome, and reports it as lost', async () => {
    const own = prefix();
    const ingested = await runCli(['ingest', SAMPLE_EXPORT_PATHS.csv, '--run', 'lost'], { env: env(own) });
    expect(ingested.code, ingested.stderr).toBe(0);
    const redis = connectRedis();
    const queue = new Queue(IMPORT_QUEUE_NAME, { connection: redis, prefix: own });
    const [victim] = await queue.getJobs(['wait'], 0, 0);
    await victim?.remove();
    await queue.close();
    await redis.quit();

    const result = await runCli(['run', SAMPLE_EXPORT_PATHS.csv, '--run', 'lost', '--no-verify'], { env: env(own), timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('1 record(s) have no outcome and no job left in the queue');
    const report = JSON.parse(readFileSync(join(dir, 'reports', 'lost', 'report.json'), 'utf8')) as {
      summary: { imported: number; pending: number };
      records: { outcome: string; message: string | null }[];
    };
    expect(report.summary).toMatchObject({ imported: 49, pending: 1 });
    expect(report.records.find((record) => record.outcome === 'pending')?.message).toContain('lost');
  });
});
