import { Command } from 'commander';
import { checkReportDir } from '../report/report-files.js';
import { buildReport } from '../report/build-report.js';
import { exitCodeFor } from '../report/report-record.js';
import { verifyRun } from '../report/verify-run.js';
import { validateRunId } from '../run/run-id.js';
import { CliError, EXIT, writeLine, type CliIo, type ExitCode } from './cli-io.js';
import { formatSummary } from './console-summary.js';
import { Runtime } from './runtime.js';
import { configFor } from './shared-options.js';

interface ReportFlags {
  readonly verify: boolean;
  readonly out?: string;
}

export function reportCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return new Command('report')
    .description("(re)write a run's reconciliation report (report.json, report.csv, report.html)")
    .argument('<runId>', 'the run')
    .option('--verify', "check every record against STA's live state", false)
    .option('--out <dir>', 'report folder (REPORT_DIR); the report goes to <dir>/<runId>/')
    .action(async (runId: string, flags: ReportFlags) => {
      const valid = validateRunId(runId);
      if (!valid.ok) throw new CliError(valid.reason, EXIT.usage);
      const config = configFor(io, flags.verify ? ['STA_BASE_URL', 'STA_API_KEY'] : [], { REPORT_DIR: flags.out }, { REPORT_DIR: '--out' });
      await checkReportDir(config.report.dir);
      const rt = new Runtime(config, io);
      try {
        const [redis, runStore, queue] = [await rt.redis(), await rt.runStore(), await rt.queue()];
        const manifest = await runStore.getManifest(runId);
        const counts = await runStore.getCounts(runId);
        if (manifest?.ingestDone && counts.pending === 0) await runStore.markFinished(runId, new Date());
        let verify = null;
        if (flags.verify) {
          await rt.checkStaReachable();
          const sta = await rt.staClient();
          const limiter = await rt.limiter();
          verify = (id: string) =>
            verifyRun({ redis, runStore, sta, holdFor: (ms) => limiter.holdFor(ms), concurrency: config.worker.concurrency, logger: rt.logger }, id);
        }
        const report = await buildReport({ redis, runStore, queue, verify, reportDir: config.report.dir, now: () => new Date() }, runId);
        const note = report.verifyStats
          ? `Verified ${report.verifyStats.users} user(s) with ${report.verifyStats.listCalls} STA list call(s).`
          : manifest?.ingestDone === false
            ? 'The run is still ingesting: records not finished yet are pending.'
            : undefined;
        writeLine(
          io.stdout,
          formatSummary({ runId, summary: report.summary, groups: report.groups, paths: report.paths, verified: flags.verify, ...(note ? { note } : {}) }),
        );
        setExit(exitCodeFor(report.summary));
      } finally {
        await rt.close();
      }
    });
}
