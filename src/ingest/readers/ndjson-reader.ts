import { MAX_RECORD_BYTES, type RawRecord } from './raw-record.js';

/**
 * Reads NDJSON (one JSON object per line; blank lines ignored). A line that is not a JSON object
 * is a bad record naming its line; the lines around it are unaffected.
 */
export async function* readNdjson(chunks: AsyncIterable<string>, label: string): AsyncGenerator<RawRecord> {
  let buffer = '';
  let line = 0;
  let index = 0;
  let first = true;
  let skippingOversize = false;

  const take = (text: string): RawRecord | null => {
    line += 1;
    const trimmed = text.trim();
    if (trimmed === '') return null;
    const source = `${label}:${line}`;
    const current = index;
    index += 1;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error: unknown) {
      return { ok: false, index: current, source, reason: `NDJSON: the line is not valid JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, index: current, source, reason: `NDJSON: the line is ${describe(value)}, not a JSON object` };
    }
    return { ok: true, index: current, source, fields: value as Record<string, unknown> };
  };

  for await (const chunk of chunks) {
    buffer += first ? chunk.replace(/^\uFEFF/, '') : chunk;
    first = false;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (skippingOversize) {
        skippingOversize = false;
        line += 1;
      } else {
        const record = take(text);
        if (record) yield record;
      }
      newline = buffer.indexOf('\n');
    }
    if (buffer.length > MAX_RECORD_BYTES) {
      if (!skippingOversize) {
        yield { ok: false, index, source: `${label}:${line + 1}`, reason: `NDJSON: the line is longer than ${MAX_RECORD_BYTES / 1048576} MB` };
        index += 1;
      }
      skippingOversize = true;
      buffer = '';
    }
  }
  if (!skippingOversize) {
    const record = take(buffer);
    if (record) yield record;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
