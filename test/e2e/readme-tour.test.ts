/**
 * The README's tour, command by command, as a user types it: dry run, ingest, a separate worker
 * process stopped with SIGTERM, status, report --verify, and the stand-alone simulator.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';
import { SAMPLE_EXPORT_PATHS } from '../helpers/fixture-paths.js';
import { connectRedis, deletePrefix, freshPrefix } from '../helpers/redis.js';

const API_KEY = 'tour-key-3f9a1c7e5b';
const RECORDS = 50;

describe('the README tour', () => {
  let simulator: RunningSimulator;
  const prefix = freshPrefix('tour');
  const reportDir = mkdtempSync(join(tmpdir(), 'sta-tour-'));
  let env: Record<string, string>;

  beforeAll(async () => {
    simulator = await startSimulator({ tenants: [{ code: 'ACME' }], apiKeys: [{ key: API_KEY, tenants: ['ACME'] }] });
    env = { STA_BASE_URL: simulator.url, STA_API_KEY: API_KEY, STA_TENANT: 'ACME', STA_RATE_LIMIT: '200', QUEUE_PREFIX: prefix, REPORT_DIR: reportDir };
  });

  afterAll(async () => {
    await simulator.close();
    const redis = connectRedis();
    await deletePrefix(redis, prefix);
    await redis.quit();
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('dry run → ingest → work → status → report --verify', async () => {
    const dry = await runCli(['ingest', SAMPLE_EXPORT_PATHS.csv, '--dry-run', '--run', 'tour-dry'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/pending\s+50/);
    expect(existsSync(join(reportDir, 'tour-dry', 'report.json'))).toBe(true);
    expect(simulator.stats().requests.total).toBe(0);

    const ingest = await runCli(['ingest', SAMPLE_EXPORT_PATHS.csv, '--run', 'tour-1'], { env });
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toContain(`${RECORDS} enqueued`);

    const waiting = await runCli(['status', 'tour-1', '--json'], { env });
    expect((JSON.parse(waiting.stdout) as { counts: { pending: number } }).counts.pending).toBe(RECORDS);

    const worker = startCli(['work', '--concurrency', '8'], { env });
    const deadline = Date.now() + 60_000;
    let pending = RECORDS;
    while (pending > 0 && Date.now() < deadline) {
      await sleep(300);
      const status = await runCli(['status', 'tour-1', '--json'], { env });
      pending = (JSON.parse(status.stdout) as { counts: { pending: number } }).counts.pending;
    }
    expect(pending).toBe(0);
    worker.child.kill('SIGTERM');
    const stopped = await worker.result;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('worker stopped cleanly');

    const list = await runCli(['status'], { env });
    expect(list.stdout).toMatch(/tour-1\s+finished|tour-1\s+working/);

    const report = await runCli(['report', 'tour-1', '--verify'], { env });
    expect(report.code, report.stdout + report.stderr).toBe(0);
    expect(report.stdout).toMatch(/imported\s+50/);
    expect(report.stdout).toContain('present 50, missing 0');
    const json = JSON.parse(readFileSync(join(reportDir, 'tour-1', 'report.json'), 'utf8')) as { summary: { imported: number; total: number } };
    expect(json.summary).toMatchObject({ total: RECORDS, imported: RECORDS });
    expect(simulator.authenticators('ACME')).toHaveLength(RECORDS);

    for (const output of [dry, ingest, stopped, report]) expect(output.stdout + output.stderr).not.toContain(API_KEY);
  });

  it('runs the stand-alone simulator until SIGTERM', async () => {
    const sim = startCli(['simulator', '--port', '0', '--api-key', 'test', '--tenant', 'ACME']);
    const url = (await waitForOutput(sim, /listening on (http:\/\/\S+)/))[1] ?? '';
    const answer = await fetch(`${url}/api/v1/tenants/ACME/users/AAAA/authenticators`, { headers: { apikey: 'test' } });
    expect(answer.status).toBe(200);
    sim.child.kill('SIGTERM');
    const result = await sim.result;
    expect(result.code).toBe(0);
  });
});

