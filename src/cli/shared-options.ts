import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/config.js';
import { loadConfig, readEnvironment, type LoadConfigOptions } from '../config/load-config.js';
import type { RequirableSetting } from '../config/config.js';
import { EXPORT_FORMATS, inspectExportFile, type ExportFile, type ExportFormat } from '../ingest/export-file.js';
import { parseFieldMap, type FieldMap } from '../ingest/fields.js';
import type { IngestOptions } from '../ingest/ingest-pipeline.js';
import { generateRunId, validateRunId } from '../run/run-id.js';
import type { RunOptions } from '../run/run-store.js';
import { CliError, EXIT, type CliIo } from './cli-io.js';

/** Flags shared by `ingest` and `run`. */
export interface IngestFlags {
  readonly run?: string;
  readonly format?: string;
  readonly map: string[];
  readonly rpId?: string;
  readonly strict: boolean;
  readonly dryRun?: boolean;
  readonly maxWaiting: number;
}

export const DEFAULT_MAX_WAITING = 50_000;
export const INGEST_BATCH_SIZE = 500;

export function addIngestOptions(command: Command): Command {
  return command
    .option('--run <id>', 'run id (letters, digits, _ . -); default: a new one')
    .option('--format <format>', `export format: ${EXPORT_FORMATS.join(' | ')} (default: by extension, then by content)`)
    .option('--map <field=column>', 'read a field from another column/key, e.g. --map userId=user_id (repeatable)', collect, [])
    .option('--rp-id <rpId>', 'require every credential to belong to this relying party ID')
    .option('--strict', 'treat warnings (clientData type not webauthn.create, …) as errors', false)
    .option('--max-waiting <n>', 'pause ingest while more than n jobs of the run are unfinished', positiveInt, DEFAULT_MAX_WAITING);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(value);
}

/** Loads configuration from the environment and `.env`, with command-line overrides. */
export function configFor(io: CliIo, require: readonly RequirableSetting[], overrides: Record<string, string | undefined> = {}, flags: Record<string, string> = {}): Config {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  // A message names the flag only when the flag gave the value; otherwise the variable the user set.
  const givenFlags = Object.fromEntries(Object.entries(flags).filter(([variable]) => variable in defined));
  const options: LoadConfigOptions = { require, overrides: defined, flags: givenFlags };
  return loadConfig(readEnvironment(io.env), options);
}

export interface PreparedIngest {
  readonly runId: string;
  readonly files: ExportFile[];
  readonly ingest: IngestOptions;
  readonly runOptions: RunOptions;
}

/**
 * Validates the ingest flags and inspects every file before anything is written: a bad flag or an
 * unreadable file stops the command here with exit 2.
 */
export async function prepareIngest(paths: readonly string[], flags: IngestFlags, config: Config, now: Date, signal?: AbortSignal): Promise<PreparedIngest> {
  const { map, problems } = parseFieldMap(flags.map);
  if (flags.format !== undefined && !(EXPORT_FORMATS as readonly string[]).includes(flags.format)) {
    problems.push(`--format '${flags.format}': expected ${EXPORT_FORMATS.join(', ')}`);
  }
  let runId = generateRunId(now);
  if (flags.run !== undefined) {
    const valid = validateRunId(flags.run);
    if (valid.ok) runId = valid.value;
    else problems.push(`--run: ${valid.reason}`);
  }
  if (flags.rpId !== undefined && !/^[a-z0-9.-]+$/i.test(flags.rpId)) problems.push(`--rp-id '${flags.rpId}': expected a domain name such as login.example.com`);
  if (problems.length > 0) throw new CliError(problems.join('\n'), EXIT.usage);

  const files: ExportFile[] = [];
  for (const path of paths) {
    const file = await inspectExportFile(path, { map, ...(flags.format ? { format: flags.format as ExportFormat } : {}) });
    const twin = files.find((other) => other.sha256 === file.sha256);
    // A run knows a file by its content: a second copy would be taken for a re-run of the first.
    if (twin) throw new CliError(`${twin.path} and ${file.path} have the same content; pass one of them`, EXIT.usage);
    files.push(file);
  }
  const preflight = {
    rpId: flags.rpId ?? null,
    strict: flags.strict,
    defaultTenant: config.sta.tenant,
    objectIdFormat: config.sta.objectIdFormat,
  };
  return {
    runId,
    files,
    ingest: { runId, preflight, map, batchSize: INGEST_BATCH_SIZE, ...(signal ? { signal } : {}) },
    runOptions: { ...preflight, map: map as Record<string, string> satisfies FieldMap },
  };
}
