import { Command } from 'commander';
import { checkReportDir } from '../report/report-files.js';
import type { CliIo, ExitCode } from './cli-io.js';
import { executeRun } from './run-flow.js';
import { Runtime } from './runtime.js';
import { addIngestOptions, configFor, prepareIngest, type IngestFlags } from './shared-options.js';

interface RunFlags extends IngestFlags {
  readonly concurrency?: string;
  readonly rateLimit?: string;
  readonly verify: boolean;
}

export function runCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return addIngestOptions(
    new Command('run')
      .description('one-off migration: ingest + workers + wait for every job + verify + report')
      .argument('<file...>', 'CSV, JSON or NDJSON export files'),
  )
    .option('--concurrency <n>', 'jobs in flight in this process (WORKER_CONCURRENCY)')
    .option('--rate-limit <perSecond>', 'requests per second STA allows, all workers together (STA_RATE_LIMIT)')
    .option('--verify', 'check every record against STA after the run (default)', true)
    .option('--no-verify', 'skip the check against STA')
    .action(async (paths: string[], flags: RunFlags) => {
      const config = configFor(
        io,
        ['STA_BASE_URL', 'STA_API_KEY'],
        { WORKER_CONCURRENCY: flags.concurrency, STA_RATE_LIMIT: flags.rateLimit },
        { WORKER_CONCURRENCY: '--concurrency', STA_RATE_LIMIT: '--rate-limit' },
      );
      const rt = new Runtime(config, io, { interactive: true });
      try {
        const prepared = await prepareIngest(paths, flags, config, new Date());
        await checkReportDir(config.report.dir);
        await rt.redis();
        await rt.checkStaReachable();
        const result = await executeRun(rt, { prepared, maxWaiting: flags.maxWaiting, verify: flags.verify });
        setExit(result.exitCode);
      } finally {
        await rt.close();
      }
    });
}
