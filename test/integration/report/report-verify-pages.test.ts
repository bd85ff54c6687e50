import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import type { BuiltReport } from '../../../src/report/build-report.js';
import { MAX_PAGE_SIZE } from '../../../src/sta/sta-client.js';
import type { JobOutcome } from '../../../src/run/outcome.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';
import type { FileProgress } from '../../../src/run/run-store.js';
import { authenticatorsPath, base64UserId, createBody, newRegistration, simRequest } from '../../helpers/sim-http.js';
import { readJson, reportOf, startReportEnv, TENANT, type ReportEnv } from './report-harness.js';
import { reportSchema } from './report-schema.js';

const API_KEY = 'report-pages-key-7e2d1c0b9a8f';
const RUN_ID = 'run-pages';
/** Authenticators each user holds in STA; every one is a record of the run. */
const HOLDINGS = { u0: 0, u1: 1, u20: 20, u21: 21, u45: 45 } as const;
const userOf = (name: keyof typeof HOLDINGS) => base64UserId(`pages-${name}`);

describe('verification lists each affected user once, every page', () => {
  let env: ReportEnv;
  let built: BuiltReport;
  let listCallsSeen: number;
  let acquiredDuringVerify: number;

  beforeAll(async () => {
    env = await startReportEnv(API_KEY);
    const keyPair = generateCredentialKeyPair();
    const now = new Date();
    const entries: RecordEntry[] = [];
    const outcomes: { jobId: string; outcome: JobOutcome }[] = [];
    const add = (userId: string, credentialId: string | null, kind: 'imported' | 'failed' | 'duplicate' | 'invalid') => {
      const index = entries.length;
      const jobId = kind === 'imported' || kind === 'failed' ? `${RUN_ID}.job-${index}` : null;
      entries.push({
        source: `pages.csv:${index + 2}`,
        externalId: `ext-${index}`,
        tenantCode: TENANT,
        userId,
        credentialId,
        friendlyName: null,
        state: null,
        ingestOutcome: kind === 'duplicate' ? 'duplicate' : kind === 'invalid' ? 'invalid' : 'pending',
        message: kind === 'duplicate' ? 'same credential as an earlier record' : kind === 'invalid' ? 'attestationObject is missing' : null,
        warnings: [],
        jobId,
      });
      if (jobId !== null) {
        outcomes.push({
          jobId,
          outcome:
            kind === 'imported'
              ? { outcome: 'imported', httpStatus: 200, message: null, attempts: 1, staId: credentialId, staState: 'pending', at: now.toISOString() }
              : { outcome: 'failed', httpStatus: 500, message: 'Internal Server Error. (after 6 attempts)', attempts: 6, staId: null, staState: null, at: now.toISOString() },
        });
      }
    };
    for (const [name, held] of Object.entries(HOLDINGS) as [keyof typeof HOLDINGS, number][]) {
      const userId = userOf(name);
      for (let i = 0; i < held; i += 1) {
        const registration = newRegistration(keyPair);
        // Seeded through the control route: not counted in the simulator's request stats.
        const seeded = await simRequest(env.sim.url, `/_sim${authenticatorsPath(TENANT, userId).slice('/api/v1'.length)}`, { method: 'POST', apiKey: null, body: createBody(registration) });
        expect(seeded.status).toBe(200);
        add(userId, registration.credentialId, 'imported');
      }
    }
    // u0 holds nothing: its one record failed. u1's credential appears in two more records.
    add(userOf('u0'), newRegistration(keyPair).credentialId, 'failed');
    const u1Credential = entries.find((entry) => entry.userId === userOf('u1'))?.credentialId ?? null;
    add(userOf('u1'), u1Credential, 'duplicate');
    add(userOf('u1'), u1Credential, 'duplicate');
    // An invalid record names a user that is never listed.
    add(base64UserId('pages-invalid-only'), null, 'invalid');

    const file: FileProgress = {
      name: 'pages.csv',
      path: '/nonexistent/pages.csv',
      sha256: 'a'.repeat(64),
      format: 'csv',
      bytes: 0,
      recordsCommitted: entries.length,
      done: true,
      startedAt: now.toISOString(),
      finishedAt: now.toISOString(),
    };
    await env.runStore.ensureRun(RUN_ID, { rpId: null, strict: false, defaultTenant: TENANT, objectIdFormat: 'base64', map: {} }, now);
    await env.runStore.commitBatch(RUN_ID, file, entries, now);
    for (const { jobId, outcome } of outcomes) {
      await env.runStore.recordOutcome(RUN_ID, { jobId, outcome, breakerCode: null, breakerThreshold: 5 }, now);
    }

    const listBefore = env.sim.stats().requests.byOperation.list;
    const acquiredBefore = env.acquired.count;
    env.calls.length = 0;
    built = await reportOf(env, RUN_ID, join(env.dir, 'reports'), { verify: true });
    listCallsSeen = env.sim.stats().requests.byOperation.list - listBefore;
    acquiredDuringVerify = env.acquired.count - acquiredBefore;
  }, 60_000);

  afterAll(async () => {
    await env.close();
  });

  const pagesOf = (held: number) => Math.max(1, Math.ceil(held / MAX_PAGE_SIZE));
  const expectedPages = Object.values(HOLDINGS).reduce<number>((sum, held) => sum + pagesOf(held), 0);

  it('makes one list call per page of each affected user, and says so', () => {
    expect(expectedPages).toBe(8);
    expect(listCallsSeen).toBe(expectedPages);
    expect(built.verifyStats).toMatchObject({ users: 5, listCalls: expectedPages, usersNotChecked: 0 });
  });

  it('lists each user once, however many records they have, and never the same page twice', () => {
    const lists = env.calls.filter((call) => call.operation === 'list');
    const byUser = new Map<string, number>();
    for (const call of lists) byUser.set(call.userId, (byUser.get(call.userId) ?? 0) + 1);
    expect(Object.fromEntries(byUser)).toEqual(Object.fromEntries(Object.entries(HOLDINGS).map(([name, held]) => [userOf(name as keyof typeof HOLDINGS), pagesOf(held)])));
    expect(lists.every((call) => call.status === 200)).toBe(true);
  });

  it('waits on the global rate limiter before every list call', () => {
    expect(acquiredDuringVerify).toBe(expectedPages);
  });

  it('finds every credential on every page as present, and the one never stored as missing', async () => {
    const report = reportSchema.parse(await readJson(built));
    expect(report.summary.verified).toEqual({ present: 1 + 20 + 21 + 45 + 2, missing: 1, notChecked: 1, importedButMissing: 0 });
    const u45 = report.records.filter((record) => record.userId === userOf('u45'));
    expect(u45).toHaveLength(45);
    expect(u45.every((record) => record.sta.verified === 'present' && record.sta.state === 'pending')).toBe(true);
    expect(report.records.find((record) => record.userId === userOf('u0'))).toMatchObject({ outcome: 'failed', sta: { verified: 'missing', state: null } });
  });
});
