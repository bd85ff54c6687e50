import { hash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** The one queue every run's import jobs go through (one STA rate limit, shared). */
export const IMPORT_QUEUE_NAME = 'import';
export const IMPORT_JOB_NAME = 'import-authenticator';

/**
 * Payload of one import job: one authenticator for one user. The attestation payloads are in the
 * job (Redis) only until it completes; completed jobs are removed.
 */
export interface ImportJobData {
  readonly runId: string;
  /** `file:line` / `file:#index` of the record, for logs. */
  readonly source: string;
  readonly tenantCode: string;
  readonly userId: string;
  /** base64url credential id read from authData: STA's authenticator id. */
  readonly credentialId: string;
  readonly friendlyName: string | null;
  /** Canonical base64url, as sent to STA. */
  readonly attestationObject: string;
  readonly clientDataJson: string;
}

/** BullMQ attempts per job for transient failures (5xx, timeouts); 429s do not use attempts. */
export const DEFAULT_ATTEMPTS = 6;

/**
 * Job id: run id + a digest of (tenant, user, credential). Stable across re-ingests of the same
 * run, so BullMQ refuses a second copy while the first exists; only `[A-Za-z0-9_.-]` (no `:`,
 * which BullMQ reserves) and never all digits (BullMQ's own auto ids are).
 */
export function importJobId(runId: string, tenantCode: string, userId: string, credentialId: string): string {
  const digest = hash('sha256', `${tenantCode}\u0000${userId}\u0000${credentialId}`, 'base64url');
  return `${runId}.${digest.slice(0, 22)}`;
}

export const IMPORT_JOB_OPTIONS: JobsOptions = {
  attempts: DEFAULT_ATTEMPTS,
  backoff: { type: 'sta' },
  // Completed jobs carry attestation payloads and nothing the ledger lacks: drop them at once.
  removeOnComplete: true,
  // Failed jobs stay for `retry` and the dashboard; their outcome is in the ledger too.
  removeOnFail: false,
};

export function createImportQueue(connection: Redis, prefix: string): Queue<ImportJobData> {
  return new Queue<ImportJobData>(IMPORT_QUEUE_NAME, { connection, prefix });
}
