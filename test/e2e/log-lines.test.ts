/**
 * What `run` logs, as JSON lines on stdout: one line per job outcome at info, one per HTTP call
 * at debug, each with run id, job id, user id and a truncated credential id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderExport } from '../../fixtures/export-writer.js';
import { makeRegistration } from '../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { runCli } from '../helpers/cli.js';
import { connectRedis, deletePrefix, freshPrefix } from '../helpers/redis.js';

const KEY = 'log-lines-key-77a1';
const USERS = ['fJLU3VOz8zAiJeCwr/dF+g==', '5E3mAHfxQz10pEd6chqb+g==', 'XfW8P5bgVHt+BK87qXcGaA=='];

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

describe('log lines of a run', () => {
  let simulator: RunningSimulator;
  const dir = mkdtempSync(join(tmpdir(), 'log-lines-'));
  const prefix = freshPrefix('logs');

  beforeAll(async () => {
    simulator = await startSimulator({ tenants: [{ code: 'ACME' }], apiKeys: [{ key: KEY, tenants: '*' }] });
  });

  afterAll(async () => {
    await simulator.close();
    const redis = connectRedis();
    await deletePrefix(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has one info line per job outcome and one debug line per STA call, naming run, job, user and credential', async () => {
    const registrations = USERS.map(() => makeRegistration({ format: 'none' }));
    const path = join(dir, 'export.csv');
    await writeFile(
      path,
      renderExport(
        registrations.map((registration, i) => ({
          userId: USERS[i] ?? '',
          attestationObject: registration.attestationObject,
          clientDataJson: registration.clientDataJson,
          friendlyName: `key ${i}`,
          externalId: `cms-${i}`,
        })),
        { format: 'csv' },
      ),
    );
    const result = await runCli(['run', path, '--run', 'logs-1', '--no-verify'], {
      env: { STA_BASE_URL: simulator.url, STA_API_KEY: KEY, STA_TENANT: 'ACME', QUEUE_PREFIX: prefix, REPORT_DIR: dir, LOG_LEVEL: 'debug' },
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Line);

    const outcomes = lines.filter((line) => line.msg === 'job done');
    const calls = lines.filter((line) => line.msg === 'STA call');
    expect(outcomes).toHaveLength(USERS.length);
    expect(calls).toHaveLength(USERS.length);
    for (const line of [...outcomes, ...calls]) {
      expect(line).toMatchObject({ runId: 'logs-1', jobId: expect.stringMatching(/^logs-1\./) as unknown });
      expect(USERS).toContain(line['userId']);
      expect(String(line['credentialId'])).toMatch(/^.{12}…$/);
    }
    for (const line of outcomes) expect(line).toMatchObject({ level: 30, outcome: 'imported', status: 200, attempts: 1 });
    for (const line of calls) expect(line).toMatchObject({ level: 20, operation: 'create', status: 200, latencyMs: expect.any(Number) as unknown });
    // Each call line and its outcome line name the same job.
    expect(new Set(calls.map((line) => line['jobId']))).toEqual(new Set(outcomes.map((line) => line['jobId'])));
    expect(result.stdout).not.toContain(KEY);
    for (const registration of registrations) expect(result.stdout).not.toContain(registration.attestationObject);
  });
});
