import { describe, expect, it } from 'vitest';
import { FailureGroups } from '../../../src/report/failure-groups.js';
import type { ReportRecord } from '../../../src/report/report-record.js';

let line = 1;
function record(outcome: ReportRecord['outcome'], message: string | null, httpStatus: number | null = null): ReportRecord {
  line += 1;
  return {
    source: `export.csv:${line}`,
    externalId: null,
    tenantCode: 'DEMO',
    userId: 'dXNlcjE=',
    credentialId: 'Y3JlZC0x',
    friendlyName: null,
    outcome,
    httpStatus,
    message,
    attempts: 1,
    warnings: [],
    sta: { state: null, verified: 'notChecked' },
  };
}

describe('FailureGroups', () => {
  it('folds the quoted user id out of STA messages so one reason forms one group', () => {
    const groups = new FailureGroups();
    groups.add(record('failed', 'The user userId ‘dXNlcjE=’ was not found.', 404));
    groups.add(record('failed', 'The user userId ‘b3RoZXI=’ was not found.', 404));
    expect(groups.top()).toEqual([
      expect.objectContaining({ outcome: 'failed', httpStatus: 404, message: 'The user userId ‘…’ was not found.', count: 2 }),
    ]);
  });

  it('folds long single-quoted values but keeps short ones, which name the problem', () => {
    const groups = new FailureGroups();
    groups.add(record('invalid', "userId 'not-base64-at-all' is not base64 (STA_OBJECT_ID_FORMAT=base64)"));
    groups.add(record('invalid', "userId 'still_not_base64!!' is not base64 (STA_OBJECT_ID_FORMAT=base64)"));
    groups.add(record('invalid', "state 'bogus' is not active, suspended or revoked (--strict)"));
    expect(groups.top().map((group) => [group.message, group.count])).toEqual([
      ["userId '…' is not base64 (STA_OBJECT_ID_FORMAT=base64)", 2],
      ["state 'bogus' is not active, suspended or revoked (--strict)", 1],
    ]);
  });

  it('folds the attempt count of exhausted retries', () => {
    const groups = new FailureGroups();
    groups.add(record('failed', 'Internal Server Error. (after 6 attempts)', 500));
    groups.add(record('failed', 'Internal Server Error. (after 3 attempts)', 500));
    expect(groups.top()).toEqual([expect.objectContaining({ message: 'Internal Server Error. (after all attempts)', count: 2 })]);
  });

  it('keeps the same message under different outcomes or statuses apart', () => {
    const groups = new FailureGroups();
    groups.add(record('failed', 'Authenticator Service Exception.', 500));
    groups.add(record('failed', 'Authenticator Service Exception.', 400));
    groups.add(record('conflict', 'Authenticator Service Exception.', 409));
    expect(groups.top()).toHaveLength(3);
  });

  it('groups records without a message under "(no message)"', () => {
    const groups = new FailureGroups();
    groups.add(record('conflict', null, 409));
    expect(groups.top()[0]?.message).toBe('(no message)');
  });

  it('ignores records that need no attention', () => {
    const groups = new FailureGroups();
    for (const outcome of ['imported', 'already-imported', 'duplicate', 'pending'] as const) groups.add(record(outcome, 'same credential as export.csv:2'));
    expect(groups.top()).toEqual([]);
  });

  it('counts every record of a group but keeps only three examples', () => {
    const groups = new FailureGroups();
    const records = Array.from({ length: 5 }, () => record('failed', 'Internal Server Error.', 500));
    for (const item of records) groups.add(item);
    const [group] = groups.top();
    expect(group?.count).toBe(5);
    expect(group?.examples).toEqual(records.slice(0, 3).map((item) => item.source));
  });

  it('lists the largest groups first and honours a limit', () => {
    const groups = new FailureGroups();
    groups.add(record('invalid', 'attestationObject is missing'));
    for (let i = 0; i < 3; i += 1) groups.add(record('failed', 'Internal Server Error.', 500));
    groups.add(record('invalid', 'clientDataJson is missing'));
    groups.add(record('invalid', 'clientDataJson is missing'));
    expect(groups.top().map((group) => group.count)).toEqual([3, 2, 1]);
    expect(groups.top(1).map((group) => group.message)).toEqual(['Internal Server Error.']);
  });

  it('stops creating groups at 1000 and counts what it could not place', () => {
    const groups = new FailureGroups();
    for (let i = 0; i < 1005; i += 1) groups.add(record('invalid', `reason number ${i}`));
    groups.add(record('invalid', 'reason number 3'));
    expect(groups.top()).toHaveLength(1000);
    expect(groups.overflow).toBe(5);
    expect(groups.top()[0]).toMatchObject({ message: 'reason number 3', count: 2 });
  });
});
