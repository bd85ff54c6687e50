import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config/config.js';

export type { Logger };

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
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
  const scrub = (line: string) => secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), line);
  const loggerOptions: LoggerOptions = {
    level: options.level,
    base: options.base ?? null,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: scrub },
  };
  const destination = options.destination ?? process.stdout;
  const usePretty = options.pretty ?? (process.stdout.isTTY && destination === process.stdout);
  if (usePretty) {
    return pino(loggerOptions, pretty({ destination, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }));
  }
  return pino(loggerOptions, destination);
}

/** A logger that writes nothing: for pure code paths and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
