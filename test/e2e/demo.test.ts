import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { connectRedis } from '../helpers/redis.js';

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 1;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function reportPath(stdout: string): string {
  const match = /Open the report: (\S+report\.html)/.exec(stdout);
  if (!match?.[1]) throw new Error(`no report path in:\n${stdout}`);
  return match[1];
}

describe('npm run demo (sta-migrate demo)', () => {
  const reportDir = mkdtempSync(join(tmpdir(), 'sta-demo-'));

  afterAll(() => {
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('imports the demo export with every planted outcome, prints the report path, and leaves no keys in Redis', async () => {
    const redis = connectRedis();
    try {
      const result = await runCli(['demo'], { env: { REPORT_DIR: reportDir }, timeoutMs: 90_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/imported\s+51/);
      expect(result.stdout).toMatch(/already-imported\s+2/);
      expect(result.stdout).toMatch(/conflict\s+1/);
      expect(result.stdout).toMatch(/failed\s+2/);
      expect(result.stdout).toMatch(/invalid\s+3/);
      expect(result.stdout).toMatch(/duplicate\s+1/);
      const html = reportPath(result.stdout);
      expect(existsSync(html)).toBe(true);
      const report = JSON.parse(readFileSync(html.replace(/report\.html$/, 'report.json'), 'utf8')) as { summary: { total: number; verified: { importedButMissing: number } } };
      expect(report.summary.total).toBe(60);
      expect(report.summary.verified.importedButMissing).toBe(0);
      const leftovers = await redis.keys('sta-migrate-demo-*');
      expect(leftovers).toEqual([]);
    } finally {
      await redis.quit();
    }
  });

  it('starts a throw-away redis-server when nothing answers at REDIS_URL', async () => {
    const port = await closedPort();
    const result = await runCli(['demo'], { env: { REPORT_DIR: reportDir, REDIS_URL: `redis://127.0.0.1:${port}` }, timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('started a throw-away redis-server');
    expect(existsSync(reportPath(result.stdout))).toBe(true);
    // The throw-away server is gone afterwards: nothing of it still runs.
    const running = execSync('ps -eo args', { encoding: 'utf8' });
    const match = /throw-away redis-server at redis:\/\/127\.0\.0\.1:(\d+)/.exec(result.stdout);
    expect(match).not.toBeNull();
    expect(running).not.toContain(`--port ${match?.[1] ?? 'x'}`);
  });

  it('explains how to get Redis when there is none and no redis-server to start', async () => {
    const port = await closedPort();
    const result = await runCli(['demo'], {
      env: { REPORT_DIR: reportDir, REDIS_URL: `redis://127.0.0.1:${port}`, PATH: '/nonexistent' },
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('docker compose up -d redis');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
