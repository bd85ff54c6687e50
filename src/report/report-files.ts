import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
    this.#records = createWriteStream(this.#recordsPart, { mode: FILE_MODE });
    this.#csv = createWriteStream(`${paths.csv}.${this.#part}`, { mode: FILE_MODE });
    this.#csvBuffer.push(`${CSV_COLUMNS.join(',')}\r\n`);
  }

  static async open(baseDir: string, header: ReportHeader): Promise<ReportFiles> {
    const dir = join(baseDir, header.runId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
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
    const json = createWriteStream(jsonPart, { mode: FILE_MODE });
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
    await writeFile(`${this.#paths.html}.${this.#part}`, html, { mode: FILE_MODE });
    for (const path of [this.#paths.json, this.#paths.csv, this.#paths.html]) {
      await chmod(`${path}.${this.#part}`, FILE_MODE);
      await rename(`${path}.${this.#part}`, path);
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

async function writeChunk(stream: WriteStream, chunk: string | Buffer): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function destroy(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = once(stream, 'close');
  stream.destroy();
  await closed;
}

async function end(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => {
      resolve();
    });
  });
}
