import { describe, expect, it } from 'vitest';
import { readJson } from '../../../src/ingest/readers/json-reader.js';
import type { RawRecord } from '../../../src/ingest/readers/raw-record.js';
import { byteChunks, CHUNK_SIZES, collect, iterate } from './chunks.js';

async function read(content: string | Buffer, chunkBytes = Number.MAX_SAFE_INTEGER): Promise<RawRecord[]> {
  return collect(readJson(iterate(byteChunks(content, chunkBytes)), 'export.json'));
}

/** The same records whatever the chunk size (1 byte, 3 bytes — multi-byte characters split —, whole). */
async function readEveryWay(content: string | Buffer): Promise<RawRecord[]> {
  const [first, ...others] = await Promise.all(CHUNK_SIZES.map((size) => read(content, size)));
  for (const other of others) expect(other).toEqual(first);
  return first ?? [];
}

const good = (index: number, fields: Record<string, unknown>): RawRecord => ({ ok: true, index, source: `export.json:#${index}`, fields });
const bad = (index: number, reason: unknown): RawRecord => ({ ok: false, index, source: `export.json:#${index}`, reason: reason as string });

const A = { userId: 'AAAA', friendlyName: 'Clé 🔑 José' };
const B = { userId: 'BBBB', friendlyName: 'line\nbreak, "quoted"' };

describe('readJson', () => {
  it('reads an array of records with #index sources, for any chunking', async () => {
    expect(await readEveryWay(JSON.stringify([A, B], null, 2))).toEqual([good(0, A), good(1, B)]);
  });

  it('reads {"records": [...]} whatever other members surround it', async () => {
    const text = JSON.stringify({ exportedAt: '2025-01-01', meta: { records: 'not these' }, records: [A, B], trailer: [1, 2] });
    expect(await readEveryWay(text)).toEqual([good(0, A), good(1, B)]);
  });

  it('accepts a UTF-8 BOM and leading whitespace', async () => {
    expect(await readEveryWay(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(` \r\n\t${JSON.stringify([A])}\n`)]))).toEqual([good(0, A)]);
  });

  it('reads nothing from an empty array or an empty records array', async () => {
    expect(await readEveryWay('[]')).toEqual([]);
    expect(await readEveryWay('{"records": []}')).toEqual([]);
  });

  it('reports records that are not objects, each at its index, and keeps the ones around them', async () => {
    expect(await readEveryWay(JSON.stringify([A, 'text', 42, null, [A], B]))).toEqual([
      good(0, A),
      bad(1, 'JSON: the record is a string, not an object'),
      bad(2, 'JSON: the record is a number, not an object'),
      bad(3, 'JSON: the record is null, not an object'),
      bad(4, 'JSON: the record is an array, not an object'),
      good(5, B),
    ]);
  });

  it('keeps every record before a truncation and ends with one bad record saying where reading stopped', async () => {
    const full = JSON.stringify([A, B, A]);
    const truncated = full.slice(0, full.lastIndexOf('{"userId"') + 20);
    expect(await readEveryWay(truncated)).toEqual([good(0, A), good(1, B), bad(2, expect.stringMatching(/^JSON: the document is cut off or malformed after 2 record\(s\)/))]);
  });

  it('reports a syntax error in the middle once and reads nothing after it', async () => {
    const text = `[${JSON.stringify(A)}, {"userId": oops}, ${JSON.stringify(B)}]`;
    const records = await readEveryWay(`\uFEFF ${text}`);
    expect(records).toHaveLength(2);
    const [first, failure] = records;
    expect(first).toEqual(good(0, A));
    // The position is the file's byte offset (BOM and multi-byte characters counted), not the read chunk's.
    const offset = Buffer.byteLength(`\uFEFF ${text.slice(0, text.indexOf('oops'))}`);
    expect(failure).toEqual(bad(1, expect.stringMatching(new RegExp(`^JSON: the document is cut off or malformed after 1 record\\(s\\) \\(Unexpected "o" at byte ${offset} `))));
  });

  it('reports a second document after the array as a bad record after the ones read', async () => {
    const records = await readEveryWay(`${JSON.stringify([A])}\n${JSON.stringify([B])}`);
    expect(records).toEqual([good(0, A), bad(1, expect.stringMatching(/^JSON: /))]);
  });

  it('reports a document that is not an array or {"records": [...]} as one bad record', async () => {
    expect(await readEveryWay('"just text"')).toEqual([bad(0, expect.stringMatching(/^JSON: the document starts with '"'; expected an array of records/))]);
    expect(await readEveryWay('{"items": []}')).toEqual([bad(0, 'JSON: the top-level object has no "records" array')]);
    expect(await readEveryWay('{"records": 5}')).toEqual([bad(0, 'JSON: the top-level object has no "records" array')]);
    expect(await readEveryWay('  \n ')).toEqual([bad(0, 'JSON: the file holds only whitespace')]);
  });

  it('hands out each record as soon as it closes, before the rest of the document arrives', async () => {
    let finalChunkSent = false;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield Buffer.from(`{"records": [${JSON.stringify(A)}, `);
      await Promise.resolve();
      finalChunkSent = true;
      yield Buffer.from(`${JSON.stringify(B)}]}`);
    }
    const seen: boolean[] = [];
    for await (const record of readJson(chunks(), 'export.json')) {
      expect(record.ok).toBe(true);
      seen.push(finalChunkSent);
    }
    expect(seen).toEqual([false, true]);
  });
});
