import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import type { Config, LogLevel, RequirableSetting } from './config.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { Secret } from './secret.js';
import { redactRedisUrl } from '../redis/redact-url.js';

/** Environment-style source of settings. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Settings the command cannot run without. */
  readonly require?: readonly RequirableSetting[];
  /**
   * Command-line values, keyed by variable name; they win over the environment. `flags` maps a
   * variable to the flag the user typed, so messages name what the user wrote.
   */
  readonly overrides?: Environment;
  readonly flags?: Readonly<Partial<Record<string, string>>>;
}

/** The variables this program reads; everything else in the environment is ignored. */
export const CONFIG_VARIABLES = [
  'STA_BASE_URL',
  'STA_API_KEY',
  'STA_TENANT',
  'STA_OBJECT_ID_FORMAT',
  'STA_RATE_LIMIT',
  'STA_TIMEOUT_MS',
  'REDIS_URL',
  'QUEUE_PREFIX',
  'WORKER_CONCURRENCY',
  'REPORT_DIR',
  'DASHBOARD_USER',
  'DASHBOARD_PASSWORD',
  'LOG_LEVEL',
] as const;

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalText = z.preprocess(blankToUndefined, z.string().trim().optional());
const number = (label: string, { min, max, integer }: { min: number; max: number; integer?: boolean }) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine((text) => /^[0-9]+(\.[0-9]+)?$/.test(text), { error: `must be ${integer ? 'a whole number' : 'a number'} (${label})` })
      .transform(Number)
      .refine((value) => value >= min && value <= max && (!integer || Number.isInteger(value)), {
        error: `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (${label})`,
      })
      .optional(),
  );

const schema = z.object({
  STA_BASE_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), {
        error: 'must be an http(s) URL such as https://api.eu.safenetid.com',
      })
      .optional(),
  ),
  STA_API_KEY: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      // Sent as an HTTP header: a line break or non-ASCII character (a bad paste) would fail every call.
      .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces (it is sent as the apikey header)' })
      .optional(),
  ),
  STA_TENANT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^[^/?#\s]+$/, { error: 'must be a tenant code without spaces, slashes, ? or #' })
      .optional(),
  ),
  STA_OBJECT_ID_FORMAT: z.preprocess(
    blankToUndefined,
    z.enum(['base64', 'hex'], { error: 'must be base64 or hex' }).default('base64'),
  ),
  STA_RATE_LIMIT: number('requests per second, all workers together', { min: 0.1, max: 10_000 }),
  STA_TIMEOUT_MS: number('milliseconds', { min: 100, max: 600_000, integer: true }),
  REDIS_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine((text) => URL.canParse(text) && /^rediss?:$/.test(new URL(text).protocol), {
        error: 'must be a redis:// or rediss:// URL',
      })
      .default('redis://127.0.0.1:6379'),
  ),
  QUEUE_PREFIX: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_.{}-]{1,64}$/, { error: 'must be 1-64 characters of letters, digits, _ . - { }' })
      .default('sta-migrate'),
  ),
  WORKER_CONCURRENCY: number('jobs in flight per worker process', { min: 1, max: 1000, integer: true }),
  REPORT_DIR: z.preprocess(blankToUndefined, z.string().default('./reports')),
  DASHBOARD_USER: optionalText,
  DASHBOARD_PASSWORD: z.preprocess(blankToUndefined, z.string().optional()),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' ? blankToUndefined(value.trim().toLowerCase()) : value),
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }).default('info'),
  ),
});

/** Values echoed back in messages are cut short, and secrets never echoed. */
const SECRET_VARIABLES = new Set(['STA_API_KEY', 'DASHBOARD_PASSWORD']);

export const DEFAULTS = {
  rateLimitPerSecond: 10,
  timeoutMs: 30_000,
  concurrency: 16,
} as const;

/**
 * Validates every setting at once into a frozen {@link Config}; command-line overrides win over
 * `env` (build `env` with {@link readEnvironment}).
 *
 * @throws {ConfigError} listing every bad or missing setting by name.
 */
export function loadConfig(env: Environment, options: LoadConfigOptions = {}): Config {
  const merged: Record<string, string | undefined> = {};
  for (const name of CONFIG_VARIABLES) merged[name] = options.overrides?.[name] ?? env[name];

  const parsed = schema.safeParse(merged);
  const issues: ConfigIssue[] = [];
  const settingName = (variable: string) => options.flags?.[variable] ?? variable;
  // A secret pasted into the wrong variable must not be echoed back either.
  const secrets = [...SECRET_VARIABLES].map((name) => merged[name]?.trim() ?? '').filter((value) => value.length >= 4);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'configuration');
      const raw = merged[variable];
      const echoed = variable === 'REDIS_URL' && raw !== undefined ? redactRedisUrl(raw) : raw;
      const shown = echoed === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got '${truncate(scrub(echoed))}')`;
      issues.push({ setting: settingName(variable), problem: `${issue.message}${shown}` });
    }
  }
  for (const variable of options.require ?? []) {
    const alreadyReported = issues.some((issue) => issue.setting === settingName(variable));
    if (!alreadyReported && blankToUndefined(merged[variable]) === undefined) {
      issues.push({ setting: settingName(variable), problem: 'is required for this command but not set' });
    }
  }
  const values = parsed.success ? parsed.data : undefined;
  if (issues.length > 0 || !values) throw new ConfigError(issues);

  return deepFreeze<Config>({
    sta: {
      baseUrl: values.STA_BASE_URL === undefined ? null : new URL(values.STA_BASE_URL),
      apiKey: values.STA_API_KEY === undefined ? null : new Secret(values.STA_API_KEY),
      tenant: values.STA_TENANT ?? null,
      objectIdFormat: values.STA_OBJECT_ID_FORMAT,
      rateLimitPerSecond: values.STA_RATE_LIMIT ?? DEFAULTS.rateLimitPerSecond,
      timeoutMs: values.STA_TIMEOUT_MS ?? DEFAULTS.timeoutMs,
    },
    redis: { url: values.REDIS_URL, prefix: values.QUEUE_PREFIX },
    worker: { concurrency: values.WORKER_CONCURRENCY ?? DEFAULTS.concurrency },
    report: { dir: values.REPORT_DIR },
    dashboard: {
      user: values.DASHBOARD_USER ?? null,
      password: values.DASHBOARD_PASSWORD === undefined ? null : new Secret(values.DASHBOARD_PASSWORD),
    },
    log: { level: values.LOG_LEVEL satisfies LogLevel, levelSet: blankToUndefined(merged['LOG_LEVEL']) !== undefined },
  });
}

/**
 * The process environment with `.env` underneath it. `.env` is parsed, not injected: process.env
 * is left untouched so nothing else can come to depend on it.
 */
export function readEnvironment(processEnv: Environment, dotenvPath = '.env'): Environment {
  if (!existsSync(dotenvPath)) return processEnv;
  const fromFile = parseDotenv(readFileSync(dotenvPath));
  return { ...fromFile, ...processEnv };
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof URL) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
