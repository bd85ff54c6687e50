import { randomBytes } from 'node:crypto';
import { fail, ok, type Result } from '../attestation/result.js';

/**
 * Run ids appear in Redis keys, job ids, and report folder names: letters, digits, `_`, `.`, `-`;
 * no `:` (BullMQ job ids) and not all digits.
 */
const RUN_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function validateRunId(runId: string): Result<string> {
  if (!RUN_ID.test(runId)) return fail(`run id '${runId}' must be 1-64 characters of letters, digits, _ . -`);
  if (/^\d+$/.test(runId)) return fail(`run id '${runId}' must not be all digits`);
  if (runId === '.' || runId === '..') return fail(`run id '${runId}' is not a usable folder name`);
  return ok(runId);
}

/** A new run id: `run-20261204-195211-a1b2`, sortable by start time. */
export function generateRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(2).toString('hex')}`;
}
