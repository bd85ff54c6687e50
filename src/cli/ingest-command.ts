import { Command } from 'commander';
import { checkReportDir } from '../report/report-files.js';
import { dryRunIngest } from '../ingest/dry-run.js';
import { runIngest } from '../ingest/run-ingest.js';
import { ReportFiles } from '../report/report-files.js';
import { EXIT, writeLine, type CliIo, type ExitCode } from './cli-io.js';
import { formatSummary } from './console-summary.js';
import { createProgress } from './progress.js';
import { Runtime } from './runtime.js';
import { addIngestOptions, configFor, prepareIngest, type IngestFlags } from './shared-options.js';

export function ingestCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return addIngestOptions(
    new Command('ingest')
      .description('stream and pre-flight CMS exports; enqueue one job per valid authenticator (or, with --dry-run, only write the report)')
      .argument('<file...>', 'CSV, JSON or NDJSON export files'),
  )
    .option('--dry-run', 'write the plan/report without touching Redis or STA', false)
    .action(async (paths: string[], flags: IngestFlags) => {
      const config = configFor(io, []);
      const rt = new Runtime(config, io, { interactive: true });
      try {
        const stop = new AbortController();
        const removeSignal = io.onSignal(() => {
          stop.abort();
        });
        const prepared = await prepareIngest(paths, flags, config, new Date(), stop.signal);
        if (flags.dryRun) await checkReportDir(config.report.dir);
        const progress = createProgress({ stream: io.stderr, logger: rt.logger, label: `ingest ${prepared.runId}` });
        const onEvent = (event: { kind: string; totals?: { read: number; invalid: number; duplicate: number } }) => {
          if (event.totals) progress.update({ done: event.totals.read, total: event.totals.read, failed: event.totals.invalid });
        };
        try {
          if (flags.dryRun) {
            const report = await ReportFiles.open(config.report.dir, { runId: prepared.runId, files: prepared.files.map((file) => file.label), startedAt: new Date().toISOString(), finishedAt: null });
            const result = await dryRunIngest(prepared.files, prepared.ingest, report, onEvent);
            progress.stop();
            writeLine(
              io.stdout,
              formatSummary({
                runId: prepared.runId,
                summary: result.report.summary,
                groups: result.report.groups,
                paths: result.report.paths,
                verified: false,
                note: 'Dry run: nothing was sent to Redis or STA; "pending" records are the ones a run would import.',
              }),
            );
            setExit(result.report.summary.invalid > 0 ? EXIT.problems : EXIT.ok);
            return;
          }
          const runStore = await rt.runStore();
          const totals = await runIngest(
            { runStore, queue: await rt.queue(), now: () => new Date() },
            {
              files: prepared.files,
              ingest: prepared.ingest,
              runOptions: prepared.runOptions,
              maxWaiting: flags.maxWaiting,
              onEvent: (event) => {
                if (event.kind === 'file-skipped') progress.log(`${event.file.label}: already ingested into run ${prepared.runId} (same content); nothing new to enqueue`);
                if (event.kind === 'file-start' && event.resumeAt > 0) progress.log(`${event.file.label}: resuming after record ${event.resumeAt}`);
                onEvent(event);
              },
              onBackpressure: (event) => {
                const line =
                  event.kind === 'paused'
                    ? `ingest paused: ${event.outstanding} jobs of the run are waiting (high-water mark ${event.highWaterMark}); start workers with \`sta-migrate work\``
                    : 'ingest resumed';
                progress.log(line);
              },
            },
          );
          progress.stop();
          const counts = await runStore.getCounts(prepared.runId);
          writeLine(
            io.stdout,
            [
              '',
              `Run ${prepared.runId}: read ${totals.read} record(s) this time — ${totals.valid} enqueued, ${totals.invalid} invalid, ${totals.duplicate} duplicate${totals.skippedFiles.length ? `; ${totals.skippedFiles.length} file(s) already ingested` : ''}.`,
              `The run now holds ${counts.total} record(s); ${counts.pending} job(s) waiting for workers (\`sta-migrate work\`).`,
              `Next: \`sta-migrate status ${prepared.runId}\`, then \`sta-migrate report ${prepared.runId} --verify\`.`,
            ].join('\n'),
          );
          setExit(totals.invalid > 0 ? EXIT.problems : EXIT.ok);
        } finally {
          progress.stop();
          removeSignal();
        }
      } finally {
        await rt.close();
      }
    });
}

