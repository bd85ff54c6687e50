import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair, type SoftwareRegistration } from '../../../fixtures/software-authenticator.js';
import { exitCodeFor } from '../../../src/report/report-record.js';
import { runCli } from '../../helpers/cli.js';
import { REDIS_URL } from '../../helpers/redis.js';
import { authenticatorsPath, base64UserId, newRegistration, simRequest } from '../../helpers/sim-http.js';
import { ingestFiles, reportOf, startReportEnv, TENANT, workUntilDone, writeCsvExport, type ReportEnv } from './report-harness.js';
import { parseReport } from './report-schema.js';

const API_KEY = 'report-verify-key-0b9d8c7e6f5a4b3c';
const DAVE = base64UserId('dave');
const ERIN = base64UserId('erin');
// The key belongs to another user: STA lets it delete dave's imported authenticators.
const ADMIN = base64UserId('admin');
const RUN_ID = 'run-verify';
const DIST_MAIN = new URL('../../../dist/src/cli/main.js', import.meta.url);

describe('verification against STA', () => {
  let env: ReportEnv;
  let regs: SoftwareRegistration[];
  const reg = (i: number) => regs[i]!;

  beforeAll(async () => {
    env = await startReportEnv(API_KEY, { ownerUserId: ADMIN });
    const keyPair = generateCredentialKeyPair();
    regs = Array.from({ length: 3 }, () => newRegistration(keyPair));
    const path = await writeCsvExport(join(env.dir, 'export.csv'), [
      { userId: DAVE, ...pick(reg(0)), friendlyName: 'Dave 1', externalId: 'cms-1' },
      { userId: DAVE, ...pick(reg(1)), friendlyName: 'Dave 2', externalId: 'cms-2' },
      { userId: ERIN, ...pick(reg(2)), friendlyName: 'Erin 1', externalId: 'cms-3' },
    ]);
    await ingestFiles(env, RUN_ID, [path]);
    await workUntilDone(env, RUN_ID);
    await env.runStore.markFinished(RUN_ID, new Date());
    // Someone removes one of dave's imported authenticators in STA after the run.
    const deleted = await simRequest(env.sim.url, authenticatorsPath(TENANT, DAVE, reg(1).credentialId), { method: 'DELETE', apiKey: API_KEY });
    expect(deleted.status).toBe(204);
    // And dave completes activation of the other one.
    const activated = await simRequest(env.sim.url, `/_sim${authenticatorsPath(TENANT, DAVE, reg(0).credentialId).slice('/api/v1'.length)}/activate`, { method: 'POST', apiKey: null });
    expect(activated.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await env.close();
  });

  it('marks a record imported but deleted from STA as missing, counts the red flag and exits 1', async () => {
    const built = await reportOf(env, RUN_ID, join(env.dir, 'verified'), { verify: true });
    const report = parseReport(await readFile(built.paths.json, 'utf8'));
    const record = (externalId: string) => report.records.find((item) => item.externalId === externalId);
    expect(record('cms-1')).toMatchObject({ outcome: 'imported', sta: { state: 'active', verified: 'present' } });
    expect(record('cms-2')).toMatchObject({ outcome: 'imported', sta: { state: null, verified: 'missing' } });
    expect(record('cms-3')).toMatchObject({ outcome: 'imported', sta: { state: 'pending', verified: 'present' } });
    expect(report.summary.verified).toEqual({ present: 2, missing: 1, notChecked: 0, importedButMissing: 1 });
    expect(report.summary.imported).toBe(3);
    expect(exitCodeFor(built.summary)).toBe(1);
    expect(built.verifyStats).toMatchObject({ users: 2, listCalls: 2, usersNotChecked: 0 });
  });

  it('leaves no verification scratch keys in Redis', async () => {
    await reportOf(env, RUN_ID, join(env.dir, 'scratch'), { verify: true });
    const keys = env.runStore.keys(RUN_ID);
    expect(await env.redis.keys(`${keys.manifest}:verify:*`)).toEqual([]);
  });

  it('without verification, reports every record as not checked and exits 0', async () => {
    const built = await reportOf(env, RUN_ID, join(env.dir, 'unverified'));
    expect(built.summary.verified).toEqual({ present: 0, missing: 0, notChecked: 3, importedButMissing: 0 });
    expect(exitCodeFor(built.summary)).toBe(0);
  });

  it('retries a list page after a 500 and counts the retry as a list call', async () => {
    const injected = await simRequest(env.sim.url, '/_sim/inject', { method: 'POST', apiKey: null, body: { operation: 'list', status: 500, message: 'Internal Server Error.' } });
    expect(injected.status).toBe(200);
    const built = await reportOf(env, RUN_ID, join(env.dir, 'retried'), { verify: true });
    expect(built.verifyStats).toMatchObject({ users: 2, listCalls: 3, usersNotChecked: 0 });
    expect(built.summary.verified).toEqual({ present: 2, missing: 1, notChecked: 0, importedButMissing: 1 });
  });

  it("leaves a user's records notChecked (not missing) when STA refuses to list them", async () => {
    const injected = await simRequest(env.sim.url, '/_sim/inject', {
      method: 'POST',
      apiKey: null,
      body: { operation: 'list', status: 401, message: 'Invalid authentication credentials.' },
    });
    expect(injected.status).toBe(200);
    const built = await reportOf(env, RUN_ID, join(env.dir, 'refused'), { verify: true });
    const report = parseReport(await readFile(built.paths.json, 'utf8'));
    expect(built.verifyStats).toMatchObject({ users: 2, usersNotChecked: 1 });
    const unchecked = report.records.filter((record) => record.sta.verified === 'notChecked');
    const refusedUser = unchecked[0]?.userId;
    expect(unchecked.length).toBeGreaterThan(0);
    expect(report.records.filter((record) => record.userId === refusedUser).every((record) => record.sta.verified === 'notChecked')).toBe(true);
    expect(report.records.filter((record) => record.userId !== refusedUser).every((record) => record.sta.verified !== 'notChecked')).toBe(true);
    // Only a listed user can raise the red flag.
    expect(report.summary.verified.importedButMissing).toBe(refusedUser === DAVE ? 0 : 1);
  });

  describe('sta-migrate report (built CLI)', () => {
    const cliEnv = () => ({
      REDIS_URL,
      QUEUE_PREFIX: env.prefix,
      STA_BASE_URL: env.sim.url,
      STA_API_KEY: API_KEY,
      STA_TENANT: TENANT,
      STA_RATE_LIMIT: '200',
      LOG_LEVEL: 'info',
    });

    beforeAll(() => {
      if (!existsSync(DIST_MAIN)) throw new Error('dist/ is missing: run `npm run build` before the CLI tests');
    });

    it('`report <run> --verify` lists the red flag, writes 0600 files without secrets, and exits 1', async () => {
      const out = join(env.dir, 'cli-verified');
      const result = await runCli(['report', RUN_ID, '--verify', '--out', out], { env: cliEnv(), timeoutMs: 30_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('1 record(s) reported imported are MISSING in STA');
      expect(result.stdout).toContain('Verified 2 user(s) with 2 STA list call(s).');
      expect(`${result.stdout}${result.stderr}`).not.toContain(API_KEY);

      const dir = join(out, RUN_ID);
      expect((await readdir(dir)).sort()).toEqual(['report.csv', 'report.html', 'report.json']);
      for (const name of ['report.csv', 'report.html', 'report.json']) {
        const path = join(dir, name);
        expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
        const text = await readFile(path, 'utf8');
        expect(text).not.toContain(API_KEY);
        for (const r of regs) {
          expect(text).not.toContain(r.attestationObject);
          expect(text).not.toContain(r.clientDataJson);
        }
      }
      const report = parseReport(await readFile(join(dir, 'report.json'), 'utf8'));
      expect(report.summary.verified.importedButMissing).toBe(1);
      expect(report.finishedAt).not.toBeNull();
    });

    it('`report <run>` without --verify exits 0 for the same run', async () => {
      const result = await runCli(['report', RUN_ID, '--out', join(env.dir, 'cli-plain')], { env: cliEnv(), timeoutMs: 30_000 });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Run ${RUN_ID}: 3 record(s)`);
    });

    it('`report` of an unknown run exits 2 with a clear message', async () => {
      const result = await runCli(['report', 'no-such-run', '--out', join(env.dir, 'cli-none')], { env: cliEnv(), timeoutMs: 30_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("run 'no-such-run' was not found");
    });
  });
});

function pick(registration: SoftwareRegistration): { attestationObject: string; clientDataJson: string } {
  return { attestationObject: registration.attestationObject, clientDataJson: registration.clientDataJson };
}
