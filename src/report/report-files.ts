import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { csvCell } from './csv-cell.js';
import { FailureGroups, type FailureGroup } from './failure-groups.js';
import { renderHtmlReport, renderRecordRow } from './html-report.js';
import { count, emptySummary, isRedFlag, type ReportRecord, type ReportSummary } from './report-record.js';

export interface ReportHeader {
  readonly runId: string;
  readonly files: readonly string[];
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface ReportPaths {
  readonly dir: string;
  readonly json: string;
  readonly csv: string;
  readonly html: string;
}

export interface WrittenReport {
  readonly paths: ReportPaths;
  readonly summary: ReportSummary;
  readonly groups: readonly FailureGroup[];
}

/** Rows the HTML page lists; beyond it, problem records only (CSV and JSON have them all). */
export const HTML_ROW_LIMIT = 20_000;
const FILE_MODE = 0o600;
const CSV_COLUMNS = [
  'source',
  'externalId',
  'tenantCode',
  'userId',
  'credentialId',
  'friendlyName',
  'outcome',
  'httpStatus',
  'message',
  'attempts',
  'warnings',
  'staState',
  'verified',
] as const;

/**
 * Writes report.json, report.csv and report.html for a stream of records, in constant memory
 * (the HTML table aside, which is capped). Files are written under temporary names with mode 0600
 * and renamed into place at the end, so a reader never sees half a report.
 */
export class ReportFiles {
  readonly #header: ReportHeader;
  readonly #paths: ReportPaths;
  readonly #part: string;
  readonly #recordsPart: string;
  readonly #records: WriteStream;
  readonly #csv: WriteStream;
  readonly #summary = emptySummary();
  readonly #groups = new FailureGroups();
  /** Rendered rows of the HTML table, and whether each needs attention. */
  readonly #rows: { html: string; attention: boolean }[] = [];
  #problemRowsOnly = false;
  #truncated = false;
  #first = true;
  #jsonBuffer: string[] = [];
  #csvBuffer: string[] = [];

  private constructor(header: ReportHeader, paths: ReportPaths) {
    this.#header = header;
    this.#paths = paths;
    // Part files are named per build: two builds of one report (a `report` while `run` finishes)
    // never write into each other's files; the last rename wins, whole.
    this.#part = `${randomBytes(4).toString('hex')}.part`;
    this.#recordsPart = join(paths.dir, `.records.json.${this.#part}`);
    this.#records = partStream(this.#recordsPart);
    this.#csv = partStream(`${paths.csv}.${this.#part}`);
    this.#csvBuffer.push(`${CSV_COLUMNS.join(',')}\r\n`);
  }

  /** @throws {ReportWriteError} when the folder cannot be created. */
  static async open(baseDir: string, header: ReportHeader): Promise<ReportFiles> {
    const dir = join(baseDir, header.runId);
    try {
      await makeDirectory(dir);
    } catch (error: unknown) {
      throw new ReportWriteError(dir, error);
    }
    return new ReportFiles(header, { dir, json: join(dir, 'report.json'), csv: join(dir, 'report.csv'), html: join(dir, 'report.html') });
  }

  async write(record: ReportRecord): Promise<void> {
    count(this.#summary, record);
    this.#groups.add(record);
    this.#keepRow(record);
    this.#jsonBuffer.push(`${this.#first ? '\n    ' : ',\n    '}${JSON.stringify(record)}`);
    this.#first = false;
    this.#csvBuffer.push(`${csvRow(record)}\r\n`);
    if (this.#jsonBuffer.length >= 500) await this.#flush();
  }

  /**
   * Writes the final files. `finishedAt` overrides the header's (a dry run finishes as it writes).
   */
  async finish(generatedAt: Date, finishedAt: string | null = this.#header.finishedAt): Promise<WrittenReport> {
    await this.#flush();
    await Promise.all([end(this.#records), end(this.#csv)]);
    const head = JSON.stringify(
      { runId: this.#header.runId, files: this.#header.files, startedAt: this.#header.startedAt, finishedAt, summary: this.#summary },
      null,
      2,
    );
    // `{ …header, summary, "records": [` + the streamed records + `]}`: summary first, as people read it.
    const jsonPart = `${this.#paths.json}.${this.#part}`;
    const json = partStream(jsonPart);
    await writeChunk(json, `${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "records": [`);
    for await (const chunk of createReadStream(this.#recordsPart)) await writeChunk(json, chunk as Buffer);
    await writeChunk(json, `${this.#first ? '' : '\n  '}]\n}\n`);
    await end(json);
    await rm(this.#recordsPart, { force: true });

    const groups = this.#groups.top();
    const html = renderHtmlReport({
      runId: this.#header.runId,
      files: this.#header.files,
      startedAt: this.#header.startedAt,
      finishedAt,
      generatedAt: generatedAt.toISOString(),
      summary: this.#summary,
      groups,
      rows: this.#rows.map((row) => row.html),
      truncated: this.#truncated,
    });
    try {
      await writeFile(`${this.#paths.html}.${this.#part}`, html, { mode: FILE_MODE });
      for (const path of [this.#paths.json, this.#paths.csv, this.#paths.html]) {
        await chmod(`${path}.${this.#part}`, FILE_MODE);
        await rename(`${path}.${this.#part}`, path);
      }
    } catch (error: unknown) {
      throw new ReportWriteError(this.#paths.dir, error);
    }
    return { paths: this.#paths, summary: this.#summary, groups };
  }

  /** Removes partial files after a failure. */
  async abort(): Promise<void> {
    // Wait for the streams to close: one still opening its file would create it after the rm.
    await Promise.all([destroy(this.#records), destroy(this.#csv)]);
    const parts = [this.#recordsPart, `${this.#paths.csv}.${this.#part}`, `${this.#paths.json}.${this.#part}`, `${this.#paths.html}.${this.#part}`];
    await Promise.all(parts.map((path) => rm(path, { force: true })));
  }

  #keepRow(record: ReportRecord): void {
    const attention = needsAttention(record);
    if (this.#rows.length < HTML_ROW_LIMIT && (!this.#problemRowsOnly || attention)) {
      this.#rows.push({ html: renderRecordRow(record), attention });
      return;
    }
    this.#truncated = true;
    if (!this.#problemRowsOnly) {
      // Past the limit: make room for problems (red flags included) by dropping successful rows.
      this.#problemRowsOnly = true;
      const kept = this.#rows.filter((row) => row.attention);
      this.#rows.length = 0;
      this.#rows.push(...kept);
      if (attention && this.#rows.length < HTML_ROW_LIMIT) this.#rows.push({ html: renderRecordRow(record), attention });
    }
  }

  async #flush(): Promise<void> {
    if (this.#jsonBuffer.length > 0) await writeChunk(this.#records, this.#jsonBuffer.join(''));
    if (this.#csvBuffer.length > 0) await writeChunk(this.#csv, this.#csvBuffer.join(''));
    this.#jsonBuffer = [];
    this.#csvBuffer = [];
  }
}

/** Not a success, or a success that STA does not hold: the rows a long HTML page keeps. */
function needsAttention(record: ReportRecord): boolean {
  return record.outcome === 'imported' || record.outcome === 'already-imported' || record.outcome === 'duplicate' ? isRedFlag(record) : true;
}

function csvRow(record: ReportRecord): string {
  return [
    record.source,
    record.externalId,
    record.tenantCode,
    record.userId,
    record.credentialId,
    record.friendlyName,
    record.outcome,
    record.httpStatus,
    record.message,
    record.attempts,
    record.warnings.join('; '),
    record.sta.state,
    record.sta.verified,
  ]
    .map(csvCell)
    .join(',');
}

/** The report cannot be written (folder not writable, disk full): a configuration problem. */
export class ReportWriteError extends Error {
  readonly code = 'REPORT_UNWRITABLE';

  constructor(where: string, cause: unknown) {
    super(`cannot write the report in ${where}: ${cause instanceof Error ? cause.message : String(cause)} (check REPORT_DIR / --out)`, { cause });
    this.name = 'ReportWriteError';
  }
}

/**
 * Creates a part file. Its error (EACCES, ENOSPC) is kept on the stream and thrown by the next
 * write — never an unhandled 'error' event that would take the process down.
 */
function partStream(path: string): WriteStream {
  const stream = createWriteStream(path, { mode: FILE_MODE });
  stream.on('error', () => undefined);
  return stream;
}

async function writeChunk(stream: WriteStream, chunk: string | Buffer): Promise<void> {
  if (stream.errored) throw new ReportWriteError(String(stream.path), stream.errored);
  if (!stream.write(chunk)) {
    try {
      await once(stream, 'drain');
    } catch (error: unknown) {
      throw new ReportWriteError(String(stream.path), error);
    }
  }
}

/**
 * `mkdir -p`, one level at a time: Node's own recursive mkdir loops forever on some paths (under
 * /proc, for one) instead of failing.
 */
async function makeDirectory(dir: string): Promise<void> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let current = target; ; current = dirname(current)) {
    try {
      if ((await stat(current)).isDirectory()) break;
      throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' });
    } catch (error: unknown) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
      missing.push(current);
      if (dirname(current) === current) break;
    }
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (error: unknown) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * Checks that reports can be written under `dir` (creating it), before a run imports anything.
 *
 * @throws {ReportWriteError}
 */
export async function checkReportDir(dir: string): Promise<void> {
  const probe = join(dir, `.sta-migrate-write-test-${process.pid}`);
  try {
    await makeDirectory(dir);
    await writeFile(probe, '', { mode: FILE_MODE });
    await rm(probe, { force: true });
  } catch (error: unknown) {
    throw new ReportWriteError(dir, error);
  }
}

async function destroy(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = once(stream, 'close');
  stream.destroy();
  await closed;
}

async function end(stream: WriteStream): Promise<void> {
  if (stream.errored) throw new ReportWriteError(String(stream.path), stream.errored);
  await new Promise<void>((resolve, reject) => {
    stream.once('error', (error) => {
      reject(new ReportWriteError(String(stream.path), error));
    });
    stream.end(() => {
      resolve();
    });
  });
}
