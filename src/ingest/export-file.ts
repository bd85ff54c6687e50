import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { CsvRecordSplitter } from './readers/csv-record-splitter.js';
import { parseHeader } from './readers/csv-reader.js';
import { MAX_RECORD_BYTES } from './readers/raw-record.js';
import { missingRequired, resolveFieldNames, type FieldMap } from './fields.js';

export type ExportFormat = 'csv' | 'json' | 'ndjson';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'ndjson'];

/** An export file that can be read: format settled, header checked, content hashed. */
export interface ExportFile {
  readonly path: string;
  /** How records of this file are named in `source` (`label:line`): the path as given. */
  readonly label: string;
  readonly format: ExportFormat;
  readonly bytes: number;
  /** SHA-256 of the content, hex: identifies the file in the run manifest and for resuming. */
  readonly sha256: string;
}

export type ExportFileProblem = 'not-found' | 'not-a-file' | 'unreadable' | 'empty' | 'binary' | 'wrong-format' | 'missing-columns' | 'bad-header';

/** A file that cannot be read at all (exit 2): the message names the file and what to do. */
export class ExportFileError extends Error {
  readonly code: ExportFileProblem;
  readonly path: string;

  constructor(path: string, code: ExportFileProblem, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ExportFileError';
    this.code = code;
    this.path = path;
  }
}

const HEAD_BYTES = 64 * 1024;

/**
 * Checks that a file can be ingested before anything is written anywhere: exists, is not empty or
 * binary, its format is known (flag, extension, or content), and a CSV header names every required
 * field (after `--map`). Hashes the content.
 *
 * @throws {ExportFileError}
 */
export async function inspectExportFile(path: string, options: { format?: ExportFormat; map: FieldMap }): Promise<ExportFile> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ExportFileError(path, 'not-a-file', 'is not a regular file');
    size = info.size;
  } catch (error: unknown) {
    if (error instanceof ExportFileError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw new ExportFileError(path, 'not-found', 'no such file');
    throw new ExportFileError(path, 'unreadable', `cannot be read (${String(code ?? error)})`);
  }
  if (size === 0) throw new ExportFileError(path, 'empty', 'the file is empty (0 bytes): the export probably failed');

  const head = await unreadableOnError(path, () => readHead(path));
  if (head.includes(0)) {
    throw new ExportFileError(path, 'binary', 'looks binary (it contains NUL bytes), not a CSV, JSON or NDJSON export');
  }
  const format = options.format ?? detectFormat(path, head.toString('utf8'));
  if (format === 'csv') checkCsvHeader(path, head, size, options.map);
  else checkJsonStart(path, head.toString('utf8'), format, options.format !== undefined);
  return { path, label: path, format, bytes: size, sha256: await unreadableOnError(path, () => sha256File(path)) };
}

/** By extension; otherwise by content: `[` or a multi-line `{` document is JSON, a `{` line is NDJSON, else CSV. */
export function detectFormat(path: string, head: string): ExportFormat {
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.json') return 'json';
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson';
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('[')) return 'json';
  if (text.startsWith('{')) {
    const firstLine = text.split('\n', 1)[0] ?? '';
    try {
      const value = JSON.parse(firstLine) as unknown;
      // A one-line {"records": [...]} document is JSON, not a one-record NDJSON file.
      return isWrappedDocument(value) ? 'json' : 'ndjson';
    } catch {
      return 'json';
    }
  }
  return 'csv';
}

function isWrappedDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as Record<string, unknown>)['records']);
}

/**
 * A JSON or NDJSON export starts with `[` or `{` (after a BOM and whitespace); anything else is
 * another format (a CSV given `--format json`, say), and every record would be rejected.
 */
function checkJsonStart(path: string, head: string, format: 'json' | 'ndjson', forced: boolean): void {
  const first = head.replace(/^\uFEFF/, '').trimStart().charAt(0);
  if (first === '' || first === '[' || first === '{') return;
  const how = forced ? `--format ${format} was given` : `the name ends in ${extname(path)}`;
  throw new ExportFileError(
    path,
    'wrong-format',
    `is not ${format === 'json' ? 'JSON' : 'NDJSON'} (${how}, but it starts with '${first}'); check the file or pass the right --format (csv, json, ndjson)`,
  );
}

function checkCsvHeader(path: string, head: Buffer, size: number, map: FieldMap): void {
  const splitter = new CsvRecordSplitter(MAX_RECORD_BYTES);
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*[[{]/.test(text)) {
    throw new ExportFileError(path, 'wrong-format', "is read as CSV but looks like JSON (it starts with '[' or '{'); pass --format json or --format ndjson");
  }
  const records = [...splitter.push(text), ...(size <= head.length ? splitter.end() : [])];
  const first = records[0];
  if (!first) throw new ExportFileError(path, 'bad-header', 'no header row in the first 64 KB');
  let header: string[];
  try {
    header = parseHeader(first);
  } catch (error: unknown) {
    throw new ExportFileError(path, 'bad-header', error instanceof Error ? error.message : String(error));
  }
  const missing = missingRequired(resolveFieldNames(header, map));
  if (missing.length > 0) {
    const shown = header.map((name) => (name.length > 40 ? `${name.slice(0, 37)}...` : name)).slice(0, 20);
    throw new ExportFileError(
      path,
      'missing-columns',
      `required column(s) ${missing.map((field) => (map[field] === undefined ? field : `${field} (--map ${field}=${map[field]})`)).join(', ')} not found; the header has: ${shown.join(', ')}. Name them with --map, e.g. --map ${missing[0] ?? 'userId'}=<column>`,
    );
  }
}

/** Runs a read; an I/O error (permissions, a device error) becomes an `unreadable` ExportFileError. */
async function unreadableOnError<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error: unknown) {
    const code = (error as { code?: unknown }).code;
    throw new ExportFileError(path, 'unreadable', `cannot be read (${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)})`);
  }
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
