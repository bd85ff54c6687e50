/**
 * report.json as PRODUCT.md specifies it, as a strict zod schema: an unknown key, a missing key
 * or a wrong type fails. `summary.verified.importedButMissing` is the red-flag counter.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const OUTCOMES = ['imported', 'already-imported', 'conflict', 'failed', 'invalid', 'duplicate', 'pending'] as const;

export const reportRecordSchema = z.strictObject({
  source: z.string().regex(/^.+:(?:\d+|#\d+)$/),
  externalId: z.string().nullable(),
  tenantCode: z.string().nullable(),
  userId: z.string().nullable(),
  credentialId: z.string().regex(/^[A-Za-z0-9_-]+$/).nullable(),
  friendlyName: z.string().nullable(),
  outcome: z.enum(OUTCOMES),
  httpStatus: z.number().int().min(100).max(599).nullable(),
  message: z.string().nullable(),
  attempts: count,
  warnings: z.array(z.string()),
  sta: z.strictObject({ state: z.string().nullable(), verified: z.enum(['present', 'missing', 'notChecked']) }),
});

export const reportSchema = z.strictObject({
  runId: z.string().min(1),
  files: z.array(z.string()),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  summary: z.strictObject({
    total: count,
    imported: count,
    alreadyImported: count,
    conflict: count,
    failed: count,
    invalid: count,
    duplicate: count,
    pending: count,
    verified: z.strictObject({ present: count, missing: count, notChecked: count, importedButMissing: count }),
  }),
  records: z.array(reportRecordSchema),
});

export type ReportJson = z.infer<typeof reportSchema>;

/** The key order of PRODUCT.md's example, level by level. */
export const TOP_LEVEL_KEYS = ['runId', 'files', 'startedAt', 'finishedAt', 'summary', 'records'];
export const SUMMARY_KEYS = ['total', 'imported', 'alreadyImported', 'conflict', 'failed', 'invalid', 'duplicate', 'pending', 'verified'];
export const RECORD_KEYS = [
  'source',
  'externalId',
  'tenantCode',
  'userId',
  'credentialId',
  'friendlyName',
  'outcome',
  'httpStatus',
  'message',
  'attempts',
  'warnings',
  'sta',
];

/** Parses report.json text: the schema must hold and keys must come in the documented order. */
export function parseReport(text: string): ReportJson {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const report = reportSchema.parse(raw);
  if (Object.keys(raw).join() !== TOP_LEVEL_KEYS.join()) throw new Error(`top-level keys ${Object.keys(raw).join()}`);
  if (Object.keys(raw['summary'] as object).join() !== SUMMARY_KEYS.join()) throw new Error('summary keys out of order');
  for (const record of raw['records'] as object[]) {
    if (Object.keys(record).join() !== RECORD_KEYS.join()) throw new Error(`record keys ${Object.keys(record).join()}`);
  }
  return report;
}
