import { AsyncLocalStorage } from 'node:async_hooks';

/** Which job an STA call belongs to, for its debug log line. */
export interface JobLogContext {
  readonly runId: string;
  readonly jobId: string;
  /** Truncated, as in every log line. */
  readonly credentialId: string;
}

/**
 * Carries the current job through the STA client's callbacks (AsyncLocalStorage), so the
 * per-call log line names the run and job without the client knowing about jobs.
 */
export const jobLogContext = new AsyncLocalStorage<JobLogContext>();

/** First 12 characters: enough to find a credential, short enough for log lines. */
export function shortCredentialId(credentialId: string): string {
  return credentialId.length > 12 ? `${credentialId.slice(0, 12)}…` : credentialId;
}
