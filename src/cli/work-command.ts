import { Command, Option } from 'commander';
import { closeWorkerGracefully, startImportWorker } from '../worker/import-worker.js';
import { EXIT, type CliIo, type ExitCode } from './cli-io.js';
import { resumeAfterBreaker } from './queue-control.js';
import { Runtime } from './runtime.js';
import { configFor, positiveInt } from './shared-options.js';

interface WorkFlags {
  readonly concurrency?: string;
  readonly rateLimit?: string;
  readonly shutdownTimeout: number;
  readonly lockDurationMs?: number;
}

export function workCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return new Command('work')
    .description('long-running worker: imports queued jobs of every run; run any number, on any hosts, against one Redis')
    .option('--concurrency <n>', 'jobs in flight in this process (WORKER_CONCURRENCY)')
    .option('--rate-limit <perSecond>', 'requests per second STA allows, all workers together (STA_RATE_LIMIT)')
    .option('--shutdown-timeout <ms>', 'on SIGTERM/SIGINT, how long in-flight jobs get to finish', positiveInt, 30_000)
    // For tests and tuning (hidden): how long a job's lock outlives a worker that stopped renewing
    // it — a SIGKILLed worker's jobs go to another worker after about this long (default 30000).
    .addOption(new Option('--lock-duration-ms <ms>', 'job lock duration and stalled-job check interval, ms').argParser(positiveInt).hideHelp())
    .action(async (flags: WorkFlags) => {
      const config = configFor(
        io,
        ['STA_BASE_URL', 'STA_API_KEY'],
        { WORKER_CONCURRENCY: flags.concurrency, STA_RATE_LIMIT: flags.rateLimit },
        { WORKER_CONCURRENCY: '--concurrency', STA_RATE_LIMIT: '--rate-limit' },
      );
      const rt = new Runtime(config, io);
      try {
        const [runStore, queue] = [await rt.runStore(), await rt.queue()];
        await rt.checkStaReachable();
        await resumeAfterBreaker(queue, runStore, rt.logger);
        const sta = await rt.staClient();
        const worker = startImportWorker({
          connection: await rt.blockingRedis(),
          prefix: config.redis.prefix,
          concurrency: config.worker.concurrency,
          sta,
          runStore,
          limiter: await rt.limiter(),
          queue,
          logger: rt.logger.child({ component: 'worker' }),
          ...(flags.lockDurationMs ? { lockDurationMs: flags.lockDurationMs, stalledIntervalMs: flags.lockDurationMs } : {}),
        });
        rt.logger.info(
          { concurrency: config.worker.concurrency, rateLimitPerSecond: config.sta.rateLimitPerSecond, prefix: config.redis.prefix },
          'worker started; waiting for jobs (SIGTERM or Ctrl-C to stop)',
        );
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          const remove = io.onSignal((received) => {
            remove();
            resolve(received);
          });
        });
        rt.logger.info({ signal }, 'stopping: no new jobs start; in-flight requests finish');
        const result = await closeWorkerGracefully(worker, flags.shutdownTimeout);
        if (result === 'forced') await sta.destroy();
        rt.logger.info({ result }, result === 'drained' ? 'worker stopped cleanly' : 'shutdown timeout: unfinished jobs went back to the queue for another worker');
        setExit(EXIT.ok);
      } finally {
        await rt.close();
      }
    });
}
