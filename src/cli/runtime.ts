import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { jobLogContext, shortCredentialId } from '../log/job-context.js';
import { createLogger } from '../log/logger.js';
import { GlobalRateLimiter } from '../queue/global-rate-limiter.js';
import { createImportQueue, type ImportJobData } from '../queue/import-queue.js';
import { checkRedisSettings, createRedis, pingRedis } from '../redis/connection.js';
import { limiterKey } from '../run/run-keys.js';
import { RunStore } from '../run/run-store.js';
import { StaClient } from '../sta/sta-client.js';
import { CliError, EXIT, type CliIo } from './cli-io.js';

/**
 * The composition root shared by the commands: one place that turns Config into connections and
 * repositories, and closes them all. Nothing below src/cli builds its own.
 */
export class Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly io: CliIo;
  readonly #closers: (() => Promise<void>)[] = [];
  #redis: Redis | null = null;
  #queue: Queue<ImportJobData> | null = null;
  #limiter: GlobalRateLimiter | null = null;

  /**
   * @param options.interactive a command a person watches (run, ingest, demo): on a TTY, unless
   *   LOG_LEVEL is set, only warnings are logged so the progress bar and summary stay readable.
   */
  constructor(config: Config, io: CliIo, options: { logger?: Logger; interactive?: boolean } = {}) {
    this.config = config;
    this.io = io;
    const quiet = options.interactive === true && io.stdout.isTTY === true && !config.log.levelSet;
    this.logger =
      options.logger ??
      createLogger({
        level: quiet ? 'warn' : config.log.level,
        destination: io.stdout,
        pretty: io.stdout.isTTY === true,
        secrets: [config.sta.apiKey?.reveal() ?? '', config.dashboard.password?.reveal() ?? ''].filter(Boolean),
      });
  }

  /** Registers a cleanup, run in reverse order by {@link close}. */
  defer(closer: () => Promise<void>): void {
    this.#closers.push(closer);
  }

  /**
   * The shared Redis connection, checked to answer.
   *
   * @throws {CliError} exit 2 when Redis does not answer.
   */
  async redis(): Promise<Redis> {
    if (this.#redis) return this.#redis;
    const redis = createRedis(this.config.redis.url, { connectionName: 'sta-migrate' });
    redis.on('error', () => undefined); // reported through pingRedis and failing commands
    const problem = await pingRedis(redis, this.config.redis.url);
    if (problem) {
      redis.disconnect();
      throw new CliError(`${problem}\nStart Redis (e.g. \`docker compose up -d redis\`) or set REDIS_URL.`, EXIT.usage);
    }
    for (const warning of await checkRedisSettings(redis)) this.logger.warn(warning);
    this.#redis = redis;
    this.defer(async () => {
      await redis.quit().catch(() => undefined);
    });
    return redis;
  }

  /** A new connection for BullMQ workers (blocking commands, retries forever). */
  async blockingRedis(): Promise<Redis> {
    const redis = createRedis(this.config.redis.url, { blocking: true, connectionName: 'sta-migrate-worker' });
    redis.on('error', (error: Error) => {
      this.logger.warn({ error: error.message }, 'Redis connection error (reconnecting)');
    });
    await redis.connect();
    this.defer(async () => {
      await redis.quit().catch(() => undefined);
    });
    return redis;
  }

  async runStore(): Promise<RunStore> {
    return new RunStore(await this.redis(), this.config.redis.prefix);
  }

  async queue(): Promise<Queue<ImportJobData>> {
    if (this.#queue) return this.#queue;
    const queue = createImportQueue(await this.redis(), this.config.redis.prefix);
    queue.on('error', (error: Error) => {
      this.logger.warn({ error: error.message }, 'queue error');
    });
    this.#queue = queue;
    this.defer(() => queue.close());
    return queue;
  }

  async limiter(): Promise<GlobalRateLimiter> {
    this.#limiter ??= new GlobalRateLimiter(await this.redis(), limiterKey(this.config.redis.prefix), {
      perSecond: this.config.sta.rateLimitPerSecond,
    });
    return this.#limiter;
  }

  /**
   * An STA client paced by the global limiter.
   *
   * @throws {CliError} when STA_BASE_URL / STA_API_KEY are missing (callers require them first).
   */
  async staClient(): Promise<StaClient> {
    const { baseUrl, apiKey } = this.config.sta;
    if (!baseUrl || !apiKey) throw new CliError('STA_BASE_URL and STA_API_KEY are required for this command', EXIT.usage);
    const limiter = await this.limiter();
    const client = new StaClient({
      baseUrl,
      apiKey,
      objectIdFormat: this.config.sta.objectIdFormat,
      timeoutMs: this.config.sta.timeoutMs,
      maxConnections: Math.max(8, this.config.worker.concurrency * 2),
      beforeRequest: () => limiter.acquire(),
      onCall: (event) => {
        if (!this.logger.isLevelEnabled('debug')) return;
        const job = jobLogContext.getStore();
        this.logger.debug(
          {
            runId: job?.runId,
            jobId: job?.jobId,
            userId: event.userId,
            credentialId: event.authenticatorId === null ? job?.credentialId : shortCredentialId(event.authenticatorId),
            operation: event.operation,
            status: event.status,
            latencyMs: event.latencyMs,
            error: event.errorCode ?? undefined,
          },
          'STA call',
        );
      },
    });
    this.defer(() => client.close());
    return client;
  }

  /**
   * Checks that STA answers HTTP at all (any status will do): a wrong host or port is a
   * configuration error, found before any record is touched.
   *
   * @throws {CliError} exit 2.
   */
  async checkStaReachable(timeoutMs = 5000): Promise<void> {
    const { baseUrl } = this.config.sta;
    if (!baseUrl) return;
    try {
      const response = await fetch(baseUrl, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
    } catch (error: unknown) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new CliError(`STA at ${baseUrl.origin} is not reachable: ${cause}`, EXIT.usage);
    }
  }

  async close(): Promise<void> {
    for (const closer of this.#closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (error: unknown) {
        this.logger.debug({ error: error instanceof Error ? error.message : String(error) }, 'error while closing');
      }
    }
  }
}
