import { createReadStream } from 'node:fs';
import type { ExportFile } from './export-file.js';
import { readCsv } from './readers/csv-reader.js';
import { readJson } from './readers/json-reader.js';
import { readNdjson } from './readers/ndjson-reader.js';
import type { RawRecord } from './readers/raw-record.js';

const CHUNK_BYTES = 256 * 1024;

/** Streams the records of an export file in order, whatever its format. Memory stays flat. */
export function readExport(file: ExportFile): AsyncGenerator<RawRecord> {
  switch (file.format) {
    case 'csv':
      return readCsv(textChunks(file.path), file.label);
    case 'ndjson':
      return readNdjson(textChunks(file.path), file.label);
    case 'json':
      return readJson(byteChunks(file.path), file.label);
  }
}

async function* textChunks(path: string): AsyncGenerator<string> {
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK_BYTES })) yield chunk as string;
}

async function* byteChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) yield chunk as Buffer;
}
