import type { ReportFiles, WrittenReport } from '../report/report-files.js';
import { ClaimTable } from './claim-table.js';
import { toReportRecord } from '../report/report-record.js';
import type { RecordEntry } from '../run/record-entry.js';
import type { Claim } from '../run/run-store.js';
import type { ExportFile } from './export-file.js';
import { ingestFiles, type EnqueueJob, type IngestEvent, type IngestOptions, type IngestSink, type IngestTotals } from './ingest-pipeline.js';

/**
 * The dry-run sink: duplicate claims in memory, nothing enqueued, every record straight into the
 * report. Touches neither Redis nor STA.
 */
class DryRunSink implements IngestSink {
  /**
   * Claims of a whole export in memory, compactly: (tenant, credential) → the first holder's source
   * packed in a number (file label index, JSON or line form, position).
   */
  readonly #claims = new ClaimTable();
  readonly #labels: string[] = [];
  readonly #labelIndex = new Map<string, number>();
  readonly #report: ReportFiles;

  constructor(report: ReportFiles) {
    this.#report = report;
  }

  beginFile(): Promise<{ done: boolean; committed: number }> {
    return Promise.resolve({ done: false, committed: 0 });
  }

  claim(claims: readonly Claim[]): Promise<(string | null)[]> {
    return Promise.resolve(
      claims.map((claim) => {
        const holder = this.#claims.claim(claim.key, this.#pack(claim.source));
        return holder === undefined ? null : this.#unpack(holder);
      }),
    );
  }

  /** `label:123` / `label:#123` → ((label index × 2 + json) × 2³²) + position. */
  #pack(source: string): number {
    const colon = source.lastIndexOf(':');
    const label = source.slice(0, colon);
    const json = source[colon + 1] === '#';
    const position = Number(source.slice(colon + (json ? 2 : 1)));
    let index = this.#labelIndex.get(label);
    if (index === undefined) {
      index = this.#labels.push(label) - 1;
      this.#labelIndex.set(label, index);
    }
    return (index * 2 + (json ? 1 : 0)) * 2 ** 32 + position;
  }

  #unpack(packed: number): string {
    const head = Math.floor(packed / 2 ** 32);
    const position = packed - head * 2 ** 32;
    return `${this.#labels[Math.floor(head / 2)] ?? '?'}:${head % 2 === 1 ? '#' : ''}${position}`;
  }

  enqueue(_jobs: readonly EnqueueJob[]): Promise<void> {
    return Promise.resolve();
  }

  async commit(_file: ExportFile, entries: readonly RecordEntry[]): Promise<void> {
    for (const entry of entries) await this.#report.write(toReportRecord(entry, null, null));
  }
}

/** Reads and pre-flights every record into a report, as a run would, without sending anything. */
export async function dryRunIngest(
  files: readonly ExportFile[],
  options: IngestOptions,
  report: ReportFiles,
  onEvent?: (event: IngestEvent) => void,
): Promise<{ totals: IngestTotals; report: WrittenReport }> {
  try {
    const totals = await ingestFiles(files, options, new DryRunSink(report), onEvent);
    const finished = new Date();
    return { totals, report: await report.finish(finished, finished.toISOString()) };
  } catch (error: unknown) {
    await report.abort();
    throw error;
  }
}
