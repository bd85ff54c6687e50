import pRetry from 'p-retry';
import type { JobOutcome } from '../run/outcome.js';
import type { CreateResult, StaClient } from '../sta/sta-client.js';
import { StaError } from '../sta/sta-error.js';
import type { Authenticator, UserRef } from '../sta/types.js';
import { BREAKER_REASONS, TRANSPORT_RETRY_OPTIONS } from './retry-policy.js';

/** One authenticator to put into STA. */
export interface ImportRequest {
  readonly tenantCode: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly friendlyName: string | null;
  readonly attestationObject: string;
  readonly clientDataJson: string;
}

/** What the caller knows about earlier attempts of the same job. */
export interface ImportContext {
  /** True on the job's first start: only then are quick transport retries made. */
  readonly firstAttempt: boolean;
  /** An earlier attempt of this job may have delivered the POST (it was interrupted, throttled or crashed). */
  readonly earlierAttemptMayHaveSent: boolean;
  /** When the job was enqueued, ms since epoch: a credential STA created after that is ours. */
  readonly enqueuedAtMs: number;
}

/** A terminal result, ready for the ledger (attempts and time are added by the caller). */
export type ImportOutcome = Omit<JobOutcome, 'attempts' | 'at'>;

export type ImportResult =
  /** Terminal. `breakerCode` is set for tenant-wide failures (bad key, import disabled, …). */
  | { readonly kind: 'done'; readonly outcome: ImportOutcome; readonly breakerCode: string | null }
  /** Transient failure: let the queue try again later. */
  | { readonly kind: 'retry'; readonly error: StaError }
  /** STA said 429: everyone waits `retryAfterMs` (null = STA gave none). */
  | { readonly kind: 'rate-limited'; readonly retryAfterMs: number | null; readonly error: StaError };

export interface ImportDeps {
  readonly sta: Pick<StaClient, 'createAuthenticator' | 'getAuthenticator'>;
  /** Called before each quick transport retry (for logs). */
  readonly onTransportRetry?: (error: StaError, retriesLeft: number) => void;
}

/**
 * Clock skew allowed between STA and this host when deciding that a credential STA holds was
 * created by this job (see {@link classifyConflict}).
 */
export const CREATED_BY_US_SKEW_MS = 60_000;

/**
 * Imports one authenticator: POST, and on 409 a look-up on the same user to tell
 * `already-imported` (it is there) from `conflict` (another user holds the credential).
 * Expected STA answers are values; this function throws only on programming errors.
 */
export async function importAuthenticator(request: ImportRequest, context: ImportContext, deps: ImportDeps): Promise<ImportResult> {
  const user: UserRef = { tenantCode: request.tenantCode, userId: request.userId };
  let sentThisAttempt = false;
  let created: CreateResult;
  try {
    created = await pRetry(
      () =>
        deps.sta.createAuthenticator(user, {
          type: 'FIDO',
          metadata: {
            attestation: { clientDataJson: request.clientDataJson, attestationObject: request.attestationObject },
            ...(request.friendlyName ? { friendlyName: request.friendlyName } : {}),
          },
        }),
      {
        ...TRANSPORT_RETRY_OPTIONS,
        retries: context.firstAttempt ? TRANSPORT_RETRY_OPTIONS.retries : 0,
        shouldRetry: ({ error }) => isTransportFailure(error),
        onFailedAttempt: ({ error, retriesLeft }) => {
          if (error instanceof StaError && error.requestMayHaveReachedSta && error.status === null) sentThisAttempt = true;
          if (isTransportFailure(error) && retriesLeft > 0 && error instanceof StaError) deps.onTransportRetry?.(error, retriesLeft);
        },
      },
    );
  } catch (error: unknown) {
    if (!(error instanceof StaError)) throw error;
    if (error.kind === 'conflict') {
      return classifyConflict(request, user, context.earlierAttemptMayHaveSent || sentThisAttempt, context.enqueuedAtMs, error, deps);
    }
    return fromFailure(error);
  }
  return {
    kind: 'done',
    outcome: {
      outcome: 'imported',
      httpStatus: created.status,
      message: null,
      staId: created.authenticator?.id ?? request.credentialId,
      staState: created.authenticator?.state ?? null,
    },
    breakerCode: null,
  };
}

/**
 * 409 "The authenticator is already in use." means the credential id exists somewhere in the
 * tenant. GET it on this user: present → `already-imported`; 404 → `conflict`. When an earlier try
 * of this very job may have delivered the POST (dropped connection, crash) and STA created the
 * credential after the job was enqueued, the 409 is our own import echoing back: `imported`.
 */
async function classifyConflict(
  request: ImportRequest,
  user: UserRef,
  mayHaveSentBefore: boolean,
  enqueuedAtMs: number,
  conflict: StaError,
  deps: ImportDeps,
): Promise<ImportResult> {
  let found: Authenticator;
  try {
    found = await deps.sta.getAuthenticator(user, request.credentialId);
  } catch (error: unknown) {
    if (!(error instanceof StaError)) throw error;
    if (error.reason === 'authenticator-not-found') {
      return {
        kind: 'done',
        outcome: {
          outcome: 'conflict',
          httpStatus: 409,
          message: `${conflict.staMessage ?? 'Conflict.'} The credential is registered to another user of the tenant.`,
          staId: null,
          staState: null,
        },
        breakerCode: null,
      };
    }
    return fromFailure(error);
  }
  const createdAtMs = Date.parse(found.createdDateTime);
  const ours = mayHaveSentBefore && Number.isFinite(createdAtMs) && createdAtMs >= enqueuedAtMs - CREATED_BY_US_SKEW_MS;
  return {
    kind: 'done',
    outcome: ours
      ? {
          outcome: 'imported',
          httpStatus: 409,
          message: 'Imported by an earlier, interrupted try of this job; the re-send met it (409) and the look-up confirmed it on this user.',
          staId: found.id,
          staState: found.state,
        }
      : { outcome: 'already-imported', httpStatus: 409, message: conflict.staMessage, staId: found.id, staState: found.state },
    breakerCode: null,
  };
}

function fromFailure(error: StaError): ImportResult {
  switch (error.kind) {
    case 'rate-limited':
      return { kind: 'rate-limited', retryAfterMs: error.retryAfterMs, error };
    case 'retryable':
      return { kind: 'retry', error };
    case 'permanent':
    case 'conflict':
      return {
        kind: 'done',
        outcome: { outcome: 'failed', httpStatus: error.status, message: error.staMessage ?? error.message, staId: null, staState: null },
        breakerCode: error.reason !== null && BREAKER_REASONS.has(error.reason) ? error.reason : null,
      };
  }
}

/** A failure below HTTP: no status arrived. */
function isTransportFailure(error: unknown): boolean {
  return error instanceof StaError && error.kind === 'retryable' && error.status === null;
}
