/**
 * An import worker wired the way src/cli/runtime.ts wires it — RunStore, import queue, global rate
 * limiter and an STA client paced by it — against real Redis (a fresh prefix) and a real simulator
 * over HTTP. Records every STA exchange with its send time, and closes (and deletes) everything.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { generateCredentialKeyPair, makeRegistration, type AttestationFormat, type SoftwareRegistration } from '../../../fixtures/software-authenticator.js';
import { Secret } from '../../../src/config/secret.js';
import type { BackoffPolicy } from '../../../src/importer/retry-policy.js';
import { GlobalRateLimiter } from '../../../src/queue/global-rate-limiter.js';
import { createImportQueue, IMPORT_JOB_NAME, IMPORT_JOB_OPTIONS, importJobId, type ImportJobData } from '../../../src/queue/import-queue.js';
import { createRedis } from '../../../src/redis/connection.js';
import type { JobOutcome, JobOutcomeName } from '../../../src/run/outcome.js';
import { limiterKey } from '../../../src/run/run-keys.js';
import { RunStore } from '../../../src/run/run-store.js';
import type { StaOperation } from '../../../src/sta/documented-messages.js';
import { StaClient } from '../../../src/sta/sta-client.js';
import { startImportWorker } from '../../../src/worker/import-worker.js';
import { startCli, type CliResult } from '../../helpers/cli.js';
import { deletePrefix, freshPrefix, REDIS_URL } from '../../helpers/redis.js';

export const TENANT = 'DEMO';
export const RUN_ID = 'test-run';

/** One STA exchange as the client saw it; times are performance.now() milliseconds (±1 ms: latency comes from the wall clock). */
export interface StaCall {
  readonly operation: StaOperation;
  readonly userId: string;
  /** HTTP status, or null when no answer arrived (dropped connection, timeout). */
  readonly status: number | null;
  /** When the request left (after the rate limiter let it go). */
  readonly sentAtMs: number;
  readonly endedAtMs: number;
}

/** One time a job became active in the worker. */
export interface Activation {
  readonly jobId: string;
  readonly attemptsMade: number;
  readonly attemptsStarted: number;
}

export interface HarnessOptions {
  readonly simulatorUrl: string;
  readonly apiKey?: string;
  /** The global limiter's rate (the worker's pacing); default far above the tests' needs. */
  readonly rateLimitPerSecond?: number;
  readonly concurrency?: number;
  /** Default: short (tests must not wait seconds per retry). */
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  readonly maxStartedAttempts?: number;
  readonly staTimeoutMs?: number;
  /** Keep every STA call and job activation in {@link WorkerHarness.calls} / `activations` (default true). */
  readonly record?: boolean;
  /** Start the worker at once (default) or later with {@link WorkerHarness.startWorker}. */
  readonly startWorker?: boolean;
  /** Make every request fail before it is sent, outside STA (as a Redis outage in the limiter would). */
  readonly failBeforeRequest?: string;
}

/** A job to enqueue: a user and (optionally) the registration to import for them. */
export interface JobSpec {
  readonly userId: string;
  readonly registration?: SoftwareRegistration;
  readonly tenantCode?: string;
}

export const SHORT_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 400 };

const keyPair = generateCredentialKeyPair();

/** A real registration (fresh credential id), cheap: the key pair is shared ("none": no signature, cheaper still). */
export function registration(format: AttestationFormat = 'packed'): SoftwareRegistration {
  return makeRegistration({ keyPair, format });
}

/** Standard base64 of a text: a well-formed STA user id. */
export function userId(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export class WorkerHarness {
  readonly prefix = freshPrefix('wk');
  readonly redis: Redis;
  readonly runStore: RunStore;
  readonly queue;
  readonly limiter: GlobalRateLimiter;
  readonly sta: StaClient;
  readonly calls: StaCall[] = [];
  readonly activations: Activation[] = [];
  readonly #options: HarnessOptions;
  readonly #blocking: Redis;
  #worker: Worker<ImportJobData, JobOutcomeName> | null = null;

  private constructor(options: HarnessOptions, redis: Redis, blocking: Redis) {
    this.#options = options;
    this.redis = redis;
    this.#blocking = blocking;
    this.runStore = new RunStore(redis, this.prefix);
    this.queue = createImportQueue(redis, this.prefix);
    this.limiter = new GlobalRateLimiter(redis, limiterKey(this.prefix), { perSecond: options.rateLimitPerSecond ?? 1000 });
    const limiter = this.limiter;
    this.sta = new StaClient({
      baseUrl: new URL(options.simulatorUrl),
      apiKey: new Secret(options.apiKey ?? 'sim-key'),
      objectIdFormat: 'base64',
      timeoutMs: options.staTimeoutMs ?? 5000,
      beforeRequest: async () => {
        if (options.failBeforeRequest !== undefined) throw new Error(options.failBeforeRequest);
        await limiter.acquire();
      },
      onCall: (event) => {
        if (options.record === false) return;
        const endedAtMs = performance.now();
        this.calls.push({ operation: event.operation, userId: event.userId, status: event.status, sentAtMs: endedAtMs - event.latencyMs, endedAtMs });
      },
    });
  }

  static async start(options: HarnessOptions): Promise<WorkerHarness> {
    const redis = createRedis(REDIS_URL, { connectionName: 'worker-test' });
    const blocking = createRedis(REDIS_URL, { blocking: true, connectionName: 'worker-test-blocking' });
    await Promise.all([redis.connect(), blocking.connect()]);
    const harness = new WorkerHarness(options, redis, blocking);
    await harness.runStore.ensureRun(RUN_ID, { rpId: null, strict: false, defaultTenant: TENANT, objectIdFormat: 'base64', map: {} }, new Date());
    if (options.startWorker !== false) harness.startWorker();
    return harness;
  }

  get worker(): Worker<ImportJobData, JobOutcomeName> {
    if (!this.#worker) throw new Error('worker not started');
    return this.#worker;
  }

  startWorker(): void {
    if (this.#worker) throw new Error('worker already started');
    this.#worker = startImportWorker({
      connection: this.#blocking,
      prefix: this.prefix,
      concurrency: this.#options.concurrency ?? 4,
      sta: this.sta,
      runStore: this.runStore,
      limiter: this.limiter,
      queue: this.queue,
      logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
      backoff: this.#options.backoff ?? SHORT_BACKOFF,
      ...(this.#options.random ? { random: this.#options.random } : {}),
      ...(this.#options.maxStartedAttempts ? { maxStartedAttempts: this.#options.maxStartedAttempts } : {}),
    });
    this.#worker.on('active', (job: Job<ImportJobData>) => {
      if (this.#options.record === false) return;
      this.activations.push({ jobId: job.id ?? '', attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted });
    });
  }

  /** Enqueues one job per spec the way ingest does (stable job id, IMPORT_JOB_OPTIONS); returns the job ids. */
  async enqueue(specs: readonly JobSpec[]): Promise<string[]> {
    const jobs = specs.map((spec, index) => {
      const reg = spec.registration ?? registration();
      const tenantCode = spec.tenantCode ?? TENANT;
      const data: ImportJobData = {
        runId: RUN_ID,
        source: `test.csv:${index + 2}`,
        tenantCode,
        userId: spec.userId,
        credentialId: reg.credentialId,
        friendlyName: `key ${index}`,
        attestationObject: reg.attestationObject,
        clientDataJson: reg.clientDataJson,
      };
      return { name: IMPORT_JOB_NAME, data, opts: { ...IMPORT_JOB_OPTIONS, jobId: importJobId(RUN_ID, tenantCode, spec.userId, reg.credentialId) } };
    });
    for (let start = 0; start < jobs.length; start += 500) await this.queue.addBulk(jobs.slice(start, start + 500));
    return jobs.map((job) => job.opts.jobId);
  }

  async outcomes(jobIds: readonly string[]): Promise<(JobOutcome | null)[]> {
    return this.runStore.getOutcomes(RUN_ID, jobIds);
  }

  async outcome(jobId: string): Promise<JobOutcome> {
    const [outcome] = await this.outcomes([jobId]);
    if (!outcome) throw new Error(`no outcome for ${jobId}`);
    return outcome;
  }

  /** Waits until the ledger holds `count` outcomes. */
  async waitForOutcomes(count: number, timeoutMs = 20_000): Promise<void> {
    const key = this.runStore.keys(RUN_ID).outcomes;
    await waitUntil(async () => (await this.redis.hlen(key)) >= count, timeoutMs, `${count} outcomes in the ledger`);
  }

  /** STA calls of one operation, in the order they ended. */
  callsOf(operation: StaOperation): StaCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.queue.close();
    await this.sta.close();
    await deletePrefix(this.redis, this.prefix);
    await this.#blocking.quit();
    await this.redis.quit();
  }
}

/** Polls `condition` every 25 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A `sta-migrate work` child process (needs `npm run build`). */
export interface WorkProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly result: Promise<CliResult>;
  /** Everything written to stdout so far (JSON log lines). */
  stdout(): string;
}

export interface WorkProcessOptions {
  readonly prefix: string;
  readonly simulatorUrl: string;
  readonly rateLimitPerSecond: number;
  readonly concurrency: number;
  readonly args?: readonly string[];
}

/** Starts `node bin/sta-migrate.js work` and waits until it says it is waiting for jobs. */
export async function startWorkProcess(options: WorkProcessOptions): Promise<WorkProcess> {
  let stdout = '';
  const started = startCli(['work', ...(options.args ?? [])], {
    env: {
      STA_BASE_URL: options.simulatorUrl,
      STA_API_KEY: 'sim-key',
      STA_RATE_LIMIT: String(options.rateLimitPerSecond),
      WORKER_CONCURRENCY: String(options.concurrency),
      QUEUE_PREFIX: options.prefix,
      REDIS_URL,
      LOG_LEVEL: 'info',
    },
    timeoutMs: 120_000,
  });
  started.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const work: WorkProcess = { child: started.child, result: started.result, stdout: () => stdout };
  const state = { exited: false };
  void started.result.then(() => {
    state.exited = true;
  });
  await waitUntil(() => state.exited || stdout.includes('worker started'), 20_000, '`work` to start');
  if (state.exited) throw new Error(`\`work\` exited early:\n${(await started.result).stderr}`);
  return work;
}

/** Log lines of a `work` process that report a finished job. */
export function jobsDone(work: WorkProcess): number {
  return work
    .stdout()
    .split('\n')
    .filter((line) => line.includes('"msg":"job done"') || line.includes('"msg":"job failed"')).length;
}
