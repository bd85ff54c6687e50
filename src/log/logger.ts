import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config/config.js';

export type { Logger };

const REDACTED = '[redacted]';

/**
 * Paths pino blanks out wherever they appear. The API key is also held in a Secret (prints as
 * "[redacted]") and scrubbed from the output stream by value; these paths cover the payloads and
 * header bags that could carry it or an attestation.
 */
export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'apikey',
  '*.apikey',
  'headers.apikey',
  '*.headers.apikey',
  'headers.authorization',
  '*.headers.authorization',
  'attestationObject',
  '*.attestationObject',
  '*.*.attestationObject',
  'clientDataJson',
  '*.clientDataJson',
  '*.*.clientDataJson',
  'clientDataJSON',
  '*.clientDataJSON',
  'attestation',
  '*.attestation',
  'password',
  '*.password',
];

/**
 * Keys whose value is blanked in the finished line at ANY depth (case-insensitive). pino's paths
 * stop at a fixed depth; this catches the same fields nested deeper, e.g. a job inside a context.
 */
export const REDACTED_KEYS = ['apikey', 'authorization', 'attestationObject', 'clientDataJson', 'attestation', 'password'] as const;

// A JSON member whose key is one of REDACTED_KEYS and whose value is a scalar. Members inside a
// string value never match: their quotes are escaped (\"), and the pattern needs bare ones.
const REDACTED_MEMBER = new RegExp(`"(${REDACTED_KEYS.join('|')})":(?:"(?:[^"\\\\]|\\\\.)*"|-?[0-9][0-9.eE+-]*|true|false)`, 'gi');

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON; default: when stdout is a TTY. */
  readonly pretty?: boolean;
  /** Values that must never be written (the API key); every occurrence is replaced. */
  readonly secrets?: readonly string[];
  /** Where lines go; default stdout. */
  readonly destination?: NodeJS.WritableStream;
  /** Fields on every line, e.g. { component: 'worker' }. */
  readonly base?: Record<string, unknown>;
}

/** A pino logger that cannot write the API key, attestation payloads or passwords. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    base: options.base ?? null,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // `error` is this codebase's key for failures: render an Error's message and stack, not `{}`
    // (the scrub below still removes any secret they hold).
    serializers: { error: pino.stdSerializers.err },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: lineScrubber(options.secrets ?? []) },
  };
  const destination = options.destination ?? process.stdout;
  const usePretty = options.pretty ?? (process.stdout.isTTY && destination === process.stdout);
  if (usePretty) {
    return pino(loggerOptions, pretty({ destination, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }));
  }
  return pino(loggerOptions, destination);
}

/**
 * The last step before a JSON line is written (and before pino-pretty reformats it): blanks
 * {@link REDACTED_KEYS} at any depth and replaces every secret. A secret is matched as written
 * and as JSON escapes it (once, and twice for a JSON text inside a string), since a key holding
 * `"` or `\` is written escaped and pino-pretty would print it unescaped.
 */
export function lineScrubber(secrets: readonly string[]): (line: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets.filter((value) => value.length >= 4)) {
    const escaped = jsonEscape(secret);
    // Most escaped first: a less escaped form can be part of a more escaped one.
    for (const form of [jsonEscape(escaped), escaped, secret]) forms.add(form);
  }
  const ordered = [...forms];
  return (line) => {
    let text = line.replace(REDACTED_MEMBER, `"$1":"${REDACTED}"`);
    for (const form of ordered) text = text.split(form).join(REDACTED);
    return text;
  };
}

function jsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** A logger that writes nothing: for pure code paths and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
