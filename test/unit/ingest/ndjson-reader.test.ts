import { describe, expect, it } from 'vitest';
import { readNdjson } from '../../../src/ingest/readers/ndjson-reader.js';
import { MAX_RECORD_BYTES, type RawRecord } from '../../../src/ingest/readers/raw-record.js';
import { CHUNK_SIZES, collect, iterate, textChunks } from './chunks.js';

async function read(text: string, chunkBytes = Number.MAX_SAFE_INTEGER): Promise<RawRecord[]> {
  return collect(readNdjson(iterate(textChunks(text, chunkBytes)), 'export.ndjson'));
}

async function readEveryWay(text: string): Promise<RawRecord[]> {
  const [first, ...others] = await Promise.all(CHUNK_SIZES.map((size) => read(text, size)));
  for (const other of others) expect(other).toEqual(first);
  return first ?? [];
}

const good = (index: number, line: number, fields: Record<string, unknown>): RawRecord => ({ ok: true, index, source: `export.ndjson:${line}`, fields });
const bad = (index: number, line: number, reason: unknown): RawRecord => ({ ok: false, index, source: `export.ndjson:${line}`, reason: reason as string });

const A = { userId: 'AAAA', friendlyName: 'Clé 🔑 José' };
const B = { userId: 'BBBB', friendlyName: 'embedded\nnewline, "quotes"' };
const line = (value: unknown) => JSON.stringify(value);

describe('readNdjson', () => {
  it('reads one record per line, LF or CRLF, with a BOM, for any chunking (multi-byte characters split too)', async () => {
    expect(await readEveryWay(`\uFEFF${line(A)}\r\n${line(B)}\n`)).toEqual([good(0, 1, A), good(1, 2, B)]);
  });

  it('takes a last line without a line break', async () => {
    expect(await readEveryWay(`${line(A)}\n${line(B)}`)).toEqual([good(0, 1, A), good(1, 2, B)]);
  });

  it('skips blank lines and keeps counting them', async () => {
    expect(await readEveryWay(`\n${line(A)}\n\n   \r\n${line(B)}\n\n`)).toEqual([good(0, 2, A), good(1, 5, B)]);
  });

  it('reports a bad line among good ones at its line, and the lines around it are unaffected', async () => {
    const text = [line(A), line(A).slice(0, 20), line([A]), '42', 'null', line(B)].join('\n');
    expect(await readEveryWay(text)).toEqual([
      good(0, 1, A),
      bad(1, 2, expect.stringMatching(/^NDJSON: the line is not valid JSON \(/)),
      bad(2, 3, 'NDJSON: the line is an array, not a JSON object'),
      bad(3, 4, 'NDJSON: the line is a number, not a JSON object'),
      bad(4, 5, 'NDJSON: the line is null, not a JSON object'),
      good(5, 6, B),
    ]);
  });

  it('reads nothing from empty or blank input', async () => {
    expect(await readEveryWay('')).toEqual([]);
    expect(await readEveryWay('\n\r\n\n')).toEqual([]);
  });

  it('rejects an oversize line once, at its line, and goes on with the next', async () => {
    const huge = `{"userId":"${'x'.repeat(MAX_RECORD_BYTES + 10)}"}`;
    const records = await collect(readNdjson(iterate([line(A), '\n', huge.slice(0, 1 << 20), huge.slice(1 << 20), '\n', line(B), '\n']), 'export.ndjson'));
    expect(records).toEqual([good(0, 1, A), bad(1, 2, `NDJSON: the line is longer than ${MAX_RECORD_BYTES / 1048576} MB`), good(2, 3, B)]);
  });
});
