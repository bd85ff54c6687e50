import { parse } from 'csv-parse/sync';
import { CsvRecordSplitter, type SplitRecord } from './csv-record-splitter.js';
import { MAX_RECORD_BYTES, type RawRecord } from './raw-record.js';

const BATCH = 500;
/**
 * The splitter has already cut records at line breaks outside quotes, so `\n` is the only record
 * delimiter: left to auto-detection, csv-parse takes a stray unquoted CR for the delimiter and
 * shifts the fields of one record onto the next.
 */
const CSV_PARSE_OPTIONS = { relax_column_count: true, skip_empty_lines: false, record_delimiter: '\n' } as const;

/**
 * Reads CSV text (RFC 4180: header row, quoted fields with commas and line breaks, CRLF or LF,
 * BOM) into records keyed by header name. Every record after the header comes out exactly once —
 * a malformed one as `ok: false` naming its line — and reading always goes on to the end.
 */
export async function* readCsv(chunks: AsyncIterable<string>, label: string): AsyncGenerator<RawRecord> {
  const splitter = new CsvRecordSplitter(MAX_RECORD_BYTES);
  let header: string[] | null = null;
  let index = 0;
  let first = true;
  let pending: SplitRecord[] = [];

  const flush = function* (records: SplitRecord[]): Generator<RawRecord> {
    let rest = records;
    if (header === null) {
      const [headerRecord, ...after] = rest;
      if (!headerRecord) return;
      header = parseHeader(headerRecord);
      rest = after;
    }
    const fieldsList = parseRows(rest);
    for (let i = 0; i < rest.length; i += 1) {
      const record = rest[i] as SplitRecord;
      const parsed = fieldsList[i];
      const source = `${label}:${record.line}`;
      const current = index;
      index += 1;
      if (record.problem !== null) {
        yield { ok: false, index: current, source, reason: `CSV: ${record.problem}` };
      } else if (parsed instanceof Error || parsed === undefined) {
        yield { ok: false, index: current, source, reason: `CSV: ${describeCsvError(parsed)}` };
      } else if (parsed.length !== header.length) {
        yield { ok: false, index: current, source, reason: `CSV: the row has ${parsed.length} fields; the header has ${header.length}` };
      } else {
        const fields: Record<string, string> = {};
        header.forEach((name, column) => {
          fields[name] = parsed[column] ?? '';
        });
        yield { ok: true, index: current, source, fields };
      }
    }
  };

  for await (const chunk of chunks) {
    let text = chunk;
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    pending.push(...splitter.push(text));
    if (pending.length >= BATCH) {
      yield* flush(pending);
      pending = [];
    }
  }
  pending.push(...splitter.end());
  yield* flush(pending);
}

/** The header's column names, trimmed. */
export function parseHeader(record: SplitRecord): string[] {
  const row = parseOne(record.text.replace(/^\uFEFF/, ''));
  if (row instanceof Error) throw new Error(`the header row cannot be read: ${describeCsvError(row)}`);
  return row.map((name) => name.trim());
}

/**
 * Parses record texts with csv-parse: all at once when they are clean, one by one to isolate
 * the broken ones otherwise.
 */
function parseRows(records: readonly SplitRecord[]): (string[] | Error)[] {
  // A record without a quote is its fields joined by commas (RFC 4180): split it directly, and
  // leave the quoted ones — the only ones with anything to parse — to csv-parse. Exports are
  // mostly unquoted base64, so this skips most of csv-parse's character-by-character work.
  const quoted = records.filter((record) => record.problem === null && record.text.includes('"'));
  let rows: string[][] | null = null;
  if (quoted.length > 0) {
    try {
      const parsed = parse(quoted.map((record) => record.text).join('\n'), CSV_PARSE_OPTIONS);
      if (parsed.length === quoted.length) rows = parsed;
    } catch {
      rows = null;
    }
  }
  let next = 0;
  return records.map((record) => {
    if (record.problem !== null) return new Error(record.problem);
    if (!record.text.includes('"')) return record.text.split(',');
    const row = rows ? rows[next] : undefined;
    next += 1;
    return row ?? parseOne(record.text);
  });
}

function parseOne(text: string): string[] | Error {
  try {
    const rows = parse(text, CSV_PARSE_OPTIONS);
    return rows[0] ?? [];
  } catch (error: unknown) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** csv-parse's message without its "(line 1)" — the line it counts is within one record. */
function describeCsvError(error: Error | undefined): string {
  if (!error) return 'the record cannot be parsed';
  const code = (error as Error & { code?: unknown }).code;
  const text = error.message.replace(/\s*at line \d+.*$/s, '').replace(/^Invalid Record Length:.*$/s, 'inconsistent field count');
  return typeof code === 'string' ? `${text} (${code})` : text;
}
