/**
 * What became of one input record. Every record of a run has exactly one outcome at any time;
 * `pending` until a terminal one is written.
 */
export type Outcome = 'imported' | 'already-imported' | 'conflict' | 'failed' | 'invalid' | 'duplicate' | 'pending';

/** Outcomes a worker writes for a job (the others are decided at ingest, or are the absence of one). */
export type JobOutcomeName = 'imported' | 'already-imported' | 'conflict' | 'failed';

/** A worker's durable account of one job, kept in the run's outcomes ledger. */
export interface JobOutcome {
  readonly outcome: JobOutcomeName;
  /** Status of the STA response that decided the outcome; null when none arrived (network). */
  readonly httpStatus: number | null;
  /** STA's message (or ours, for network failures); null on plain success. */
  readonly message: string | null;
  /** Attempts started for the job, this one included. */
  readonly attempts: number;
  /** STA's authenticator id and state after the call, when STA said. */
  readonly staId: string | null;
  readonly staState: string | null;
  /** ISO time the outcome was written. */
  readonly at: string;
}

/** Counter names of a run, as stored (camelCase of the outcomes). */
export const COUNTER_BY_OUTCOME = {
  imported: 'imported',
  'already-imported': 'alreadyImported',
  conflict: 'conflict',
  failed: 'failed',
  invalid: 'invalid',
  duplicate: 'duplicate',
  pending: 'pending',
} as const satisfies Record<Outcome, string>;

/** Summary counts as PRODUCT.md's report `summary` names them. */
export interface OutcomeCounts {
  readonly total: number;
  readonly imported: number;
  readonly alreadyImported: number;
  readonly conflict: number;
  readonly failed: number;
  readonly invalid: number;
  readonly duplicate: number;
  readonly pending: number;
}

/** Outcomes that mean the authenticator is (or should be) in STA on its user. */
export function isSuccess(outcome: Outcome): boolean {
  return outcome === 'imported' || outcome === 'already-imported' || outcome === 'duplicate';
}

/** Outcomes that make a run's exit code 1. */
export function isProblem(outcome: Outcome): boolean {
  return outcome === 'failed' || outcome === 'invalid' || outcome === 'conflict';
}
