import type { StaOperation } from '../sta/documented-messages.js';
import type { Authenticator } from '../sta/types.js';

/**
 * An API key the simulator accepts in the `apikey` header. (The option types are mutable on
 * purpose: callers such as the CLI build them field by field.)
 */
export interface SimApiKey {
  /** The header value. */
  key: string;
  /** Tenant codes the key may address, or `'*'` for every tenant. */
  tenants: readonly string[] | '*';
  /**
   * Strict standard base64 id of the user the key belongs to. DELETE of an imported authenticator
   * of this user answers 403 (the document's rule for the key's own user).
   */
  ownerUserId?: string;
}

/** A tenant the simulator knows. Unknown tenant codes answer 404. */
export interface SimTenant {
  code: string;
  /** The console toggle "import via the API" is off: POST answers 403 importDisabled. */
  importDisabled?: boolean;
  /** The product plan includes importing (default true); false makes POST answer 403 planExcludesFeature. */
  planIncludesImport?: boolean;
}

/** Test controls, all changeable at runtime (`setFaults`, `PUT /_sim/faults`). They apply to `/api/*` only. */
export interface SimulatorFaults {
  /** Accepted API requests per sliding 1000 ms window; `null` = unlimited. Over it: 429 + `Retry-After`. */
  rateLimitPerSecond: number | null;
  /** Delay before answering each API request, in milliseconds. */
  latencyMs: number;
  /** Probability (0–1) of answering 500 "Internal Server Error." without touching state. */
  faultRate: number;
  /** Probability (0–1) of destroying the connection instead of answering. */
  dropRate: number;
  /** `after`: the request is processed, then the connection is destroyed; `before`: nothing is processed. */
  dropMode: 'before' | 'after';
}

/** Options of {@link startSimulator}. Every field has a default. */
export interface SimulatorOptions {
  /** TCP port; 0 (default) = a free port. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Default `[{ code: 'DEMO' }]`. */
  tenants?: readonly SimTenant[];
  /** Default `[{ key: 'sim-key', tenants: '*' }]`. */
  apiKeys?: readonly SimApiKey[];
  /**
   * Strict standard base64 ids of the users that exist: one list for every tenant, or a list per
   * tenant code (a tenant absent from the record has no users). `undefined` = any well-formed
   * userId exists.
   */
  users?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  faults?: Partial<SimulatorFaults>;
  /** Source of randomness for drops and faults, in [0, 1); default Math.random. Injectable for determinism. */
  random?: () => number;
  /** Clock for `createdDateTime`, activation times and the rate-limit window; default `new Date()`. */
  now?: () => Date;
}

/** Counters of `/api/*` (and unknown-path) requests since start or the last reset. */
export interface SimulatorStats {
  readonly requests: {
    readonly total: number;
    /** Keyed by HTTP status ("200", "429", …) and "dropped" for destroyed connections; only observed keys appear. */
    readonly byStatus: Readonly<Record<string, number>>;
    /** Requests routed to each operation, whatever their outcome. */
    readonly byOperation: Readonly<Record<StaOperation, number>>;
  };
  /** Authenticators stored, all tenants together. */
  readonly authenticators: number;
}

/** An authenticator as the simulator stores it, with the canonical base64 id of its user. */
export type SimAuthenticator = Authenticator & { readonly userId: string };

/** Handle on a started simulator. */
export interface RunningSimulator {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Changes the fault controls; throws RangeError on an invalid value. */
  setFaults(faults: Partial<SimulatorFaults>): void;
  /** Same shape as `GET /_sim/stats`. */
  stats(): SimulatorStats;
  /** Every stored authenticator of a tenant (empty for an unknown tenant), userId canonical base64. */
  authenticators(tenantCode: string): SimAuthenticator[];
  /** Closes the server and destroys every open socket, keep-alive included. */
  close(): Promise<void>;
}

/** Faults when none are given: everything off, drops (if enabled) after processing. */
export const DEFAULT_FAULTS: SimulatorFaults = Object.freeze({
  rateLimitPerSecond: null,
  latencyMs: 0,
  faultRate: 0,
  dropRate: 0,
  dropMode: 'after',
});
