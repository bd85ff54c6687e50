/** The README's large-export generator, then a dry run of what it wrote. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

describe('npm run fixtures:generate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes an export every record of which passes pre-flight', async () => {
    const out = join(dir, 'export-300.csv');
    execFileSync('npm', ['run', '--silent', 'fixtures:generate', '--', '--count', '300', '--users', '60', '--format', 'csv', '--out', out], { cwd: REPO_ROOT, stdio: 'ignore' });
    const result = await runCli(['ingest', out, '--dry-run', '--run', 'generated'], { env: { STA_TENANT: 'ACME', REPORT_DIR: dir, REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Run generated: 300 record\(s\)/);
    expect(result.stdout).toMatch(/pending\s+300/);
  });
});
