import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRegistration } from '../../../fixtures/software-authenticator.js';
import { detectFormat, ExportFileError, inspectExportFile, type ExportFileProblem, type ExportFormat } from '../../../src/ingest/export-file.js';
import { canonicalFields, parseFieldMap, resolveFieldNames, type FieldMap } from '../../../src/ingest/fields.js';
import { readExport } from '../../../src/ingest/read-export.js';
import { DIRTY_FIXTURES, SAMPLE_EXPORT_PATHS } from '../../helpers/fixture-paths.js';
import { collect } from './chunks.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function inspectionError(path: string, options: { format?: ExportFormat; map?: FieldMap } = {}): Promise<ExportFileError> {
  try {
    await inspectExportFile(path, { map: {}, ...options });
  } catch (error: unknown) {
    if (error instanceof ExportFileError) return error;
    throw error;
  }
  throw new Error(`${path}: expected an ExportFileError`);
}

async function expectProblem(path: string, code: ExportFileProblem, message: RegExp, options: { format?: ExportFormat; map?: FieldMap } = {}): Promise<void> {
  const error = await inspectionError(path, options);
  expect(error.code).toBe(code);
  expect(error.path).toBe(path);
  expect(error.message.startsWith(`${path}: `)).toBe(true);
  expect(error.message).toMatch(message);
}

const reg = makeRegistration();
const USER = Buffer.from('export-file-user').toString('base64');

describe('detectFormat', () => {
  it.each([
    ['export.csv', 'csv'],
    ['EXPORT.CSV', 'csv'],
    ['export.json', 'json'],
    ['export.ndjson', 'ndjson'],
    ['export.jsonl', 'ndjson'],
  ] as const)('goes by the extension of %s', (name, format) => {
    // The extension wins over content that looks like something else.
    expect(detectFormat(name, '{"userId": "a"}\n')).toBe(format);
  });

  it.each([
    ['a JSON array', '  [\n {"userId": "a"}\n]', 'json'],
    ['a pretty-printed {"records": [...]}', '\uFEFF{\n  "records": []\n}', 'json'],
    ['a one-line {"records": [...]}', '{"records": [{"userId": "a"}]}', 'json'],
    ['one JSON object per line', '{"userId": "a"}\n{"userId": "b"}\n', 'ndjson'],
    ['a header row', 'userId,attestationObject,clientDataJson\n', 'csv'],
  ] as const)('goes by the content without a known extension: %s', (_label, head, format) => {
    expect(detectFormat('/exports/export.txt', head)).toBe(format);
    expect(detectFormat('/exports/export', head)).toBe(format);
  });
});

describe('inspectExportFile', () => {
  it('settles the format, the size and the SHA-256 of a committed export', async () => {
    const inspected = await inspectExportFile(SAMPLE_EXPORT_PATHS.csv, { map: {} });
    const content = await readFile(SAMPLE_EXPORT_PATHS.csv);
    expect(inspected).toEqual({
      path: SAMPLE_EXPORT_PATHS.csv,
      label: SAMPLE_EXPORT_PATHS.csv,
      format: 'csv',
      bytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    expect((await inspectExportFile(SAMPLE_EXPORT_PATHS.jsonWrapped, { map: {} })).format).toBe('json');
    expect((await inspectExportFile(SAMPLE_EXPORT_PATHS.ndjson, { map: {} })).format).toBe('ndjson');
  });

  it('detects the format by content when the name says nothing', async () => {
    const records = [{ userId: USER, attestationObject: reg.attestationObject, clientDataJson: reg.clientDataJson }];
    expect((await inspectExportFile(await file('no-extension-array', JSON.stringify(records)), { map: {} })).format).toBe('json');
    expect((await inspectExportFile(await file('no-extension-wrapped', JSON.stringify({ records })), { map: {} })).format).toBe('json');
    expect((await inspectExportFile(await file('no-extension-lines', `${JSON.stringify(records[0])}\n`), { map: {} })).format).toBe('ndjson');
    expect((await inspectExportFile(await file('no-extension-csv', 'userId,attestationObject,clientDataJson\n'), { map: {} })).format).toBe('csv');
  });

  it('rejects a 0-byte file', async () => {
    await expectProblem(DIRTY_FIXTURES.empty.path, 'empty', /the file is empty \(0 bytes\): the export probably failed$/);
  });

  it('rejects binary garbage, whatever the name or --format', async () => {
    await expectProblem(DIRTY_FIXTURES.garbage.path, 'binary', /looks binary \(it contains NUL bytes\), not a CSV, JSON or NDJSON export$/);
    await expectProblem(DIRTY_FIXTURES.garbage.path, 'binary', /looks binary/, { format: 'json' });
  });

  it('rejects a missing path and a directory', async () => {
    await expectProblem(join(dir, 'nope.csv'), 'not-found', /no such file$/);
    const folder = join(dir, 'folder.csv');
    await mkdir(folder);
    await expectProblem(folder, 'not-a-file', /is not a regular file$/);
  });

  it('names the missing column, shows the header and suggests --map', async () => {
    await expectProblem(
      DIRTY_FIXTURES.missingColumn.path,
      'missing-columns',
      /required column\(s\) clientDataJson not found; the header has: userId, attestationObject, friendlyName, tenantCode, externalId, state\. Name them with --map, e\.g\. --map clientDataJson=<column>$/,
    );
  });

  it('names the --map column that is not in the header', async () => {
    const { map } = parseFieldMap(['userId=user_id', 'attestationObject=attestation', 'clientDataJson=client_data_json']);
    await expectProblem(DIRTY_FIXTURES.renamedColumns.path, 'missing-columns', /required column\(s\) clientDataJson \(--map clientDataJson=client_data_json\) not found; the header has: user_id, attestation, client_data, name\./, { map });
  });

  it('reads renamed columns with --map (and not without it)', async () => {
    await expectProblem(DIRTY_FIXTURES.renamedColumns.path, 'missing-columns', /required column\(s\) userId, attestationObject, clientDataJson not found/);
    const { map, problems } = parseFieldMap(['userId=user_id', 'attestationObject=attestation', 'clientDataJson=client_data', 'friendlyName=name']);
    expect(problems).toEqual([]);
    const inspected = await inspectExportFile(DIRTY_FIXTURES.renamedColumns.path, { map });
    const records = await collect(readExport(inspected));
    expect(records).toHaveLength(DIRTY_FIXTURES.renamedColumns.goodRecords);
    for (const record of records) {
      if (!record.ok) throw new Error(record.reason);
      const fields = canonicalFields(record.fields, resolveFieldNames(Object.keys(record.fields), map));
      expect(Object.keys(fields).sort()).toEqual(['attestationObject', 'clientDataJson', 'friendlyName', 'userId']);
      expect(fields.userId).toBe(record.fields['user_id']);
    }
  });

  it('matches header names case-insensitively and accepts clientDataJSON for clientDataJson', async () => {
    const path = await file('shouting.csv', `USERID,AttestationObject,clientDataJSON,FriendlyName\n${USER},${reg.attestationObject},${reg.clientDataJson},Key\n`);
    const inspected = await inspectExportFile(path, { map: {} });
    const [record] = await collect(readExport(inspected));
    if (!record?.ok) throw new Error('expected one good record');
    expect(canonicalFields(record.fields, resolveFieldNames(Object.keys(record.fields), {}))).toEqual({
      userId: USER,
      attestationObject: reg.attestationObject,
      clientDataJson: reg.clientDataJson,
      friendlyName: 'Key',
    });
  });

  it('rejects a file whose content does not match --format, or its extension, saying which', async () => {
    const csv = await file('really-csv.dat', `userId,attestationObject,clientDataJson\n${USER},${reg.attestationObject},${reg.clientDataJson}\n`);
    await expectProblem(csv, 'wrong-format', /is not JSON \(--format json was given, but it starts with 'u'\); check the file or pass the right --format/, { format: 'json' });
    await expectProblem(csv, 'wrong-format', /is not NDJSON \(--format ndjson was given, but it starts with 'u'\)/, { format: 'ndjson' });
    const misnamed = await file('really-csv.json', 'userId,attestationObject,clientDataJson\n');
    await expectProblem(misnamed, 'wrong-format', /is not JSON \(the name ends in \.json, but it starts with 'u'\)/);
    await expectProblem(SAMPLE_EXPORT_PATHS.json, 'wrong-format', /is read as CSV but looks like JSON .*pass --format json or --format ndjson$/, { format: 'csv' });
    await expectProblem(SAMPLE_EXPORT_PATHS.ndjson, 'wrong-format', /looks like JSON/, { format: 'csv' });
  });

  it('rejects a CSV without a header row in its first 64 KB', async () => {
    await expectProblem(await file('no-header.csv', `"${'x'.repeat(70 * 1024)}`), 'bad-header', /no header row in the first 64 KB$/);
  });

  it('accepts a header-only CSV (0 records is not an error)', async () => {
    const inspected = await inspectExportFile(DIRTY_FIXTURES.headerOnly.path, { map: {} });
    expect(await collect(readExport(inspected))).toEqual([]);
  });
});

describe('parseFieldMap', () => {
  it('reads field=column pairs and names every bad one', () => {
    expect(parseFieldMap(['userId = user_id', 'clientDataJson=cd'])).toEqual({ map: { userId: 'user_id', clientDataJson: 'cd' }, problems: [] });
    expect(parseFieldMap(['userId', 'nope=x', 'friendlyName='])).toEqual({
      map: {},
      problems: [
        "--map 'userId': expected field=column, e.g. --map userId=user_id",
        "--map 'nope=x': unknown field 'nope' (fields: userId, attestationObject, clientDataJson, friendlyName, tenantCode, externalId, state)",
        "--map 'friendlyName=': expected field=column, e.g. --map userId=user_id",
      ],
    });
  });
});
