import type { ReportFiles, WrittenReport } from '../report/report-files.js';
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
  readonly #claims = new Map<string, string>();
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
        const holder = this.#claims.get(claim.key);
        if (holder === undefined) {
          this.#claims.set(claim.key, claim.source);
          return null;
        }
        return holder;
      }),
    );
  }

  /** A dry run sends nothing. */
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
