import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRegistration } from '../../../fixtures/software-authenticator.js';
import { inspectExportFile } from '../../../src/ingest/export-file.js';
import { ingestFiles, type IngestSink } from '../../../src/ingest/ingest-pipeline.js';
import { MAX_ATTESTATION_OBJECT_CHARS } from '../../../src/ingest/preflight.js';
import { readExport } from '../../../src/ingest/read-export.js';
import { readCsv } from '../../../src/ingest/readers/csv-reader.js';
import type { RawRecord } from '../../../src/ingest/readers/raw-record.js';
import type { RecordEntry } from '../../../src/run/record-entry.js';
import { CHUNK_SIZES, collect, iterate, textChunks } from './chunks.js';

async function read(text: string, chunkBytes = Number.MAX_SAFE_INTEGER): Promise<RawRecord[]> {
  return collect(readCsv(iterate(textChunks(text, chunkBytes)), 'export.csv'));
}

/** The same records, whatever the chunk size (1 byte, 3 bytes, whole). */
async function readEveryWay(text: string): Promise<RawRecord[]> {
  const [first, ...others] = await Promise.all(CHUNK_SIZES.map((size) => read(text, size)));
  for (const other of others) expect(other).toEqual(first);
  return first ?? [];
}

const good = (index: number, line: number, fields: Record<string, string>): RawRecord => ({ ok: true, index, source: `export.csv:${line}`, fields });
const bad = (index: number, line: number, reason: unknown): RawRecord => ({ ok: false, index, source: `export.csv:${line}`, reason: reason as string });

describe('readCsv', () => {
  it('drops the BOM, reads CRLF rows and names fields by the header, for any chunking (multi-byte characters split too)', async () => {
    const text = '\uFEFFuserId,friendlyName\r\nAAAA,Clé 🔑 José\r\nBBBB,plain\r\n';
    expect(await readEveryWay(text)).toEqual([good(0, 2, { userId: 'AAAA', friendlyName: 'Clé 🔑 José' }), good(1, 3, { userId: 'BBBB', friendlyName: 'plain' })]);
  });

  it('keeps commas, line breaks and doubled quotes inside quoted fields and gives a multi-line record its first line', async () => {
    const text = 'id,name\n1,"Desk key, left drawer\nspare"\n2,"say ""hi""\r\nagain"\n3,last\n';
    expect(await readEveryWay(text)).toEqual([
      good(0, 2, { id: '1', name: 'Desk key, left drawer\nspare' }),
      good(1, 4, { id: '2', name: 'say "hi"\r\nagain' }),
      good(2, 6, { id: '3', name: 'last' }),
    ]);
  });

  it('skips empty lines without shifting the line numbers', async () => {
    expect(await readEveryWay('id,name\n\n1,a\r\n\r\n\n2,b\n\n')).toEqual([good(0, 3, { id: '1', name: 'a' }), good(1, 6, { id: '2', name: 'b' })]);
  });

  it('reads nothing from a header-only file or from empty input', async () => {
    expect(await readEveryWay('id,name\r\n')).toEqual([]);
    expect(await readEveryWay('id,name')).toEqual([]);
    expect(await readEveryWay('')).toEqual([]);
  });

  it('reports an unterminated quote once, at its line, and recovers the rows after it', async () => {
    const text = 'id,name\n1,a\n2,"open quote\n3,c\n4,d\n';
    expect(await readEveryWay(text)).toEqual([
      good(0, 2, { id: '1', name: 'a' }),
      bad(1, 3, expect.stringMatching(/^CSV: a quoted field is never closed \(unterminated quote\)/)),
      good(2, 4, { id: '3', name: 'c' }),
      good(3, 5, { id: '4', name: 'd' }),
    ]);
  });

  it('reports a malformed closing quote and a row with the wrong field count as bad rows of their own', async () => {
    const text = 'id,name\n1,"a"x\n2,b,extra\n3\n4,"d"\n';
    expect(await readEveryWay(text)).toEqual([
      bad(0, 2, expect.stringMatching(/^CSV: .*quote/i)),
      bad(1, 3, 'CSV: the row has 3 fields; the header has 2'),
      bad(2, 4, 'CSV: the row has 1 fields; the header has 2'),
      good(3, 5, { id: '4', name: 'd' }),
    ]);
  });

  it('never moves the fields of a row with a stray carriage return onto the next row', async () => {
    const records = await readEveryWay('id,name\n1,a\r2,b\n3,c\n4,d\n');
    expect(records).toEqual([bad(0, 2, 'CSV: the row has 3 fields; the header has 2'), good(1, 3, { id: '3', name: 'c' }), good(2, 4, { id: '4', name: 'd' })]);
  });

  it('accounts for every row of a file larger than one internal batch, a bad one among them, in order', async () => {
    const rows = Array.from({ length: 1203 }, (_, index) => (index === 700 ? `${index},"broken"x` : `${index},name ${index}`));
    const records = await read(`id,name\n${rows.join('\n')}\n`, 4096);
    expect(records).toHaveLength(1203);
    records.forEach((record, index) => {
      expect(record.index).toBe(index);
      expect(record.source).toBe(`export.csv:${index + 2}`);
      expect(record.ok).toBe(index !== 700);
    });
  });

  it('rejects a header row that cannot be parsed', async () => {
    await expect(read('id,"na"me\n1,2\n')).rejects.toThrow(/header row cannot be read/);
  });
});

describe('a 5 MB quoted field (generated at test time)', () => {
  let dir = '';
  const registration = makeRegistration();
  const userId = Buffer.from('big-field-user').toString('base64');
  const hugeAttestation = 'A'.repeat(5 * 1024 * 1024);
  const hugeName = `${'long name, with a comma\n'.repeat(218_454)}end`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csv-5mb-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function ingestInMemory(path: string): Promise<RecordEntry[]> {
    const file = await inspectExportFile(path, { map: {} });
    const entries: RecordEntry[] = [];
    const sink: IngestSink = {
      beginFile: () => Promise.resolve({ done: false, committed: 0 }),
      claim: (claims) => Promise.resolve(claims.map(() => null)),
      enqueue: () => Promise.resolve(),
      commit: (_file, batch) => {
        entries.push(...batch);
        return Promise.resolve();
      },
    };
    const totals = await ingestFiles([file], { runId: 'r1', preflight: { rpId: null, strict: false, defaultTenant: 'ACME', objectIdFormat: 'base64' }, map: {}, batchSize: 500 }, sink);
    expect(totals.read).toBe(entries.length);
    return entries;
  }

  it('is read as one record and rejected by pre-flight with a size message when it is the attestation object', async () => {
    const path = join(dir, 'huge-attestation.csv');
    await writeFile(
      path,
      `userId,attestationObject,clientDataJson\r\n${userId},${registration.attestationObject},${registration.clientDataJson}\r\n${userId},"${hugeAttestation}",${registration.clientDataJson}\r\n${userId},${makeRegistration().attestationObject},${registration.clientDataJson}\r\n`,
    );
    const file = await inspectExportFile(path, { map: {} });
    const raw = await collect(readExport(file));
    expect(raw.map((record) => [record.source, record.ok])).toEqual([
      [`${path}:2`, true],
      [`${path}:3`, true],
      [`${path}:4`, true],
    ]);

    const entries = await ingestInMemory(path);
    expect(entries.map((entry) => entry.ingestOutcome)).toEqual(['pending', 'invalid', 'pending']);
    expect(entries[1]?.message).toBe(`attestationObject is 5.0 MB; the limit is ${MAX_ATTESTATION_OBJECT_CHARS / 1024} KiB`);
  });

  it('is read as one record spanning its lines when it is a multi-line friendly name, and accounted for once (with a length warning)', async () => {
    const path = join(dir, 'huge-name.csv');
    await writeFile(path, `userId,attestationObject,clientDataJson,friendlyName\n${userId},${registration.attestationObject},${registration.clientDataJson},"${hugeName}"\n${userId},${makeRegistration().attestationObject},${registration.clientDataJson},short\n`);
    const entries = await ingestInMemory(path);
    expect(entries.map((entry) => entry.source)).toEqual([`${path}:2`, `${path}:${2 + 218_455}`]);
    expect(entries[0]?.friendlyName).toBe(hugeName);
    expect(entries[0]?.warnings).toEqual([`friendlyName is ${hugeName.length} characters long`]);
  });
});
