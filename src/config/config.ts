import type { ObjectIdFormat } from '../sta/documented-messages.js';
import type { Secret } from './secret.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The whole configuration, validated once and frozen. Nothing else in the program reads
 * process.env. Values absent from the environment are null where a command may not need them;
 * commands declare what they need with `require` (see load-config.ts).
 */
export interface Config {
  readonly sta: {
    /** Origin (and optional base path) of the STA REST API, e.g. https://api.eu.safenetid.com. */
    readonly baseUrl: URL | null;
    readonly apiKey: Secret | null;
    /** Default tenant code for records without one. */
    readonly tenant: string | null;
    readonly objectIdFormat: ObjectIdFormat;
    /** Requests per second to STA, all workers together. */
    readonly rateLimitPerSecond: number;
    /** Per-request timeout, milliseconds. */
    readonly timeoutMs: number;
  };
  readonly redis: {
    readonly url: string;
    /** Key prefix of every queue and ledger key; wrap in {braces} for Redis Cluster. */
    readonly prefix: string;
  };
  readonly worker: {
    /** Jobs in flight per worker process. */
    readonly concurrency: number;
  };
  readonly report: {
    readonly dir: string;
  };
  readonly dashboard: {
    readonly user: string | null;
    readonly password: Secret | null;
  };
  readonly log: {
    readonly level: LogLevel;
    /** Whether LOG_LEVEL was set (interactive commands default to quieter logs on a TTY otherwise). */
    readonly levelSet: boolean;
  };
}

/** Names of the settings a command can require to be present. */
export type RequirableSetting = 'STA_BASE_URL' | 'STA_API_KEY' | 'STA_TENANT' | 'DASHBOARD_USER' | 'DASHBOARD_PASSWORD';
