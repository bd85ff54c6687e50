import { STA_MESSAGES, type StaOperation } from './documented-messages.js';

/** How the caller should treat a failed call. The client itself never retries. */
export type StaErrorKind =
  /** 5xx, timeouts, resets, dropped connections: worth another try later. */
  | 'retryable'
  /** 400, 401, 403, 404: the same request will fail the same way. */
  | 'permanent'
  /** 409: the authenticator id is already registered in the tenant. */
  | 'conflict'
  /** 429: slow down for `retryAfterMs`. */
  | 'rate-limited';

/** Stable codes for programs and reports; one per HTTP class of failure. */
export type StaErrorCode =
  | 'STA_BAD_REQUEST'
  | 'STA_UNAUTHORIZED'
  | 'STA_FORBIDDEN'
  | 'STA_NOT_FOUND'
  | 'STA_CONFLICT'
  | 'STA_RATE_LIMITED'
  | 'STA_SERVER_ERROR'
  | 'STA_UNEXPECTED_STATUS'
  | 'STA_TIMEOUT'
  | 'STA_NETWORK'
  | 'STA_BAD_RESPONSE';

/**
 * What STA's message says, where it matters to the caller: the circuit breaker stops a run on the
 * tenant-wide ones (bad key, no permission, import disabled, plan, unknown tenant).
 */
export type StaErrorReason =
  | 'no-api-key'
  | 'invalid-credentials'
  | 'no-tenant-permission'
  | 'plan-excludes-import'
  | 'import-disabled'
  | 'tenant-not-found'
  | 'user-not-found'
  | 'authenticator-not-found'
  | 'already-in-use'
  | 'delete-own-imported'
  | 'operation-not-allowed'
  | 'validation'
  | null;

export interface StaErrorDetails {
  readonly operation: StaOperation;
  readonly code: StaErrorCode;
  readonly kind: StaErrorKind;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  /** STA's own message text, as sent; null when there was none. */
  readonly staMessage: string | null;
  readonly reason?: StaErrorReason;
  /** From `Retry-After`, milliseconds; only for 429 (and 503 when sent). */
  readonly retryAfterMs?: number | null;
  /**
   * False only when the request certainly never reached STA (connection refused, DNS failure):
   * a POST that failed otherwise may have been stored.
   */
  readonly requestMayHaveReachedSta?: boolean;
  readonly cause?: unknown;
}

/**
 * A failed STA call. `message` names the operation, status and STA's message — never the API key
 * or a request body.
 */
export class StaError extends Error {
  readonly operation: StaOperation;
  readonly code: StaErrorCode;
  readonly kind: StaErrorKind;
  readonly status: number | null;
  readonly staMessage: string | null;
  readonly reason: StaErrorReason;
  readonly retryAfterMs: number | null;
  readonly requestMayHaveReachedSta: boolean;

  constructor(details: StaErrorDetails) {
    const what = details.status === null ? details.code : `HTTP ${details.status}`;
    super(`STA ${details.operation} failed: ${what}${details.staMessage ? ` ${details.staMessage}` : ''}`, { cause: details.cause });
    this.name = 'StaError';
    this.operation = details.operation;
    this.code = details.code;
    this.kind = details.kind;
    this.status = details.status;
    this.staMessage = details.staMessage;
    this.reason = details.reason ?? reasonFromMessage(details.staMessage);
    this.retryAfterMs = details.retryAfterMs ?? null;
    this.requestMayHaveReachedSta = details.requestMayHaveReachedSta ?? true;
  }
}

/** Classifies an HTTP error status. Pure. */
export function classifyStatus(status: number): { code: StaErrorCode; kind: StaErrorKind } {
  if (status === 429) return { code: 'STA_RATE_LIMITED', kind: 'rate-limited' };
  if (status === 409) return { code: 'STA_CONFLICT', kind: 'conflict' };
  if (status >= 500) return { code: 'STA_SERVER_ERROR', kind: 'retryable' };
  if (status === 408) return { code: 'STA_TIMEOUT', kind: 'retryable' };
  if (status === 400 || status === 422) return { code: 'STA_BAD_REQUEST', kind: 'permanent' };
  if (status === 401) return { code: 'STA_UNAUTHORIZED', kind: 'permanent' };
  if (status === 403) return { code: 'STA_FORBIDDEN', kind: 'permanent' };
  if (status === 404) return { code: 'STA_NOT_FOUND', kind: 'permanent' };
  return { code: 'STA_UNEXPECTED_STATUS', kind: 'permanent' };
}

const REASONS: readonly (readonly [RegExp | string, Exclude<StaErrorReason, null>])[] = [
  [STA_MESSAGES.noApiKey, 'no-api-key'],
  [STA_MESSAGES.invalidCredentials, 'invalid-credentials'],
  [STA_MESSAGES.noTenantPermission, 'no-tenant-permission'],
  [STA_MESSAGES.planExcludesFeature, 'plan-excludes-import'],
  [STA_MESSAGES.importDisabled, 'import-disabled'],
  [STA_MESSAGES.alreadyInUse, 'already-in-use'],
  [STA_MESSAGES.deleteOwnImported, 'delete-own-imported'],
  [STA_MESSAGES.operationNotAllowed, 'operation-not-allowed'],
  // messageOf appends the problem body's field errors to the title.
  [new RegExp(`^${STA_MESSAGES.validationTitle.replaceAll('.', '\\.')}(?: |$)`, 's'), 'validation'],
  [STA_MESSAGES.tenantNotFoundException, 'tenant-not-found'],
  [STA_MESSAGES.userNotFoundException, 'user-not-found'],
  [STA_MESSAGES.authenticatorNotFoundException, 'authenticator-not-found'],
  [/^The tenant code .* does not exist\.$/s, 'tenant-not-found'],
  [/userId .* was not found\.$/s, 'user-not-found'],
  [/^The authenticator ID .* was not found\.$/s, 'authenticator-not-found'],
];

/** Maps STA's message text to a reason. Quotes may be typographic or straight. Pure. */
export function reasonFromMessage(message: string | null): StaErrorReason {
  if (message === null) return null;
  for (const [match, reason] of REASONS) {
    if (typeof match === 'string' ? message === match : match.test(message)) return reason;
  }
  return null;
}
