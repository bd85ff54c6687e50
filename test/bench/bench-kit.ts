/**
 * What every benchmark shares: argument parsing (`--scale`, `--result-file`), a context that hands
 * out fresh Redis prefixes and temp folders and cleans them up whatever happens, the result file
 * run-all.ts reads, a simulator in a child process, and small measuring helpers.
 *
 * A benchmark is a script `test/bench/<name>.ts` that calls {@link runBenchmark} once. It runs on
 * its own (`node --import tsx test/bench/<name>.ts --scale 0.05`) or under run-all.ts, prints its
 * figures, and exits 0 when it met its target, 1 when it missed it, 2 when it could not measure.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import type { SimulatorFaults, SimulatorOptions, SimulatorStats } from '../../src/simulator/index.js';
import { connectRedis, deletePrefix, freshPrefix } from '../helpers/redis.js';

/** What a benchmark measured, as run-all prints and stores it. */
export interface Measurement {
  /** The headline figure as printed in the table, e.g. "0.63" or "47.1 req/s". */
  readonly measured: string;
  /** The same figure as a number (null when it is not one, e.g. "1234 = 1234"). */
  readonly value: number | null;
  /** The target in words, e.g. ">= 0.5". */
  readonly target: string;
  readonly pass: boolean;
  /** Absolute numbers for context (times, rates, counts, MB). */
  readonly figures: Readonly<Record<string, number | string>>;
  /** What the reader should know (e.g. "scale < 1: fixed overheads weigh more"). */
  readonly notes?: readonly string[];
}

/** The result file a benchmark writes for run-all (JSON). */
export interface BenchResult extends Measurement {
  readonly name: string;
  readonly scale: number;
  readonly durationMs: number;
  /** Peak resident set of the benchmark process itself, MB (getrusage maxRSS). */
  readonly benchPeakRssMb: number;
  /** Redis key prefixes it used; run-all checks that nothing is left under them. */
  readonly prefixes: readonly string[];
  /** Set when the benchmark failed to measure (threw). */
  readonly error?: string;
  readonly notes: readonly string[];
}

/** What a benchmark body gets. Its functions are free-standing: they may be passed around unbound. */
export interface BenchContext {
  readonly name: string;
  /** Multiplies record counts (`--scale`, default 1). */
  readonly scale: number;
  /** `round(count × scale)`, at least `min`. */
  readonly scaled: (count: number, min?: number) => number;
  /** A connection for set-up, checks and clean-up (not for BullMQ workers). */
  readonly redis: Redis;
  /** A Redis key prefix nobody else uses; every key under it is deleted at the end. */
  readonly prefix: (label?: string) => string;
  /** A new temp folder, removed at the end. */
  readonly tempDir: () => Promise<string>;
  /** Runs at the end (reverse order), before prefixes and folders are removed. */
  readonly defer: (cleanup: () => Promise<void> | void) => void;
  /** A progress line on stderr, with the seconds since start. */
  readonly log: (message: string) => void;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
/** The tenant every benchmark imports into. */
export const BENCH_TENANT = 'BENCH';
export const BENCH_API_KEY = 'sim-key';

/**
 * Runs one benchmark: parses the arguments, runs `body`, cleans up, prints the result, writes
 * `--result-file` when given, and sets the exit code (0 pass, 1 target missed, 2 error).
 */
export async function runBenchmark(name: string, body: (context: BenchContext) => Promise<Measurement>): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { scale: { type: 'string', default: '1' }, 'result-file': { type: 'string' } },
    strict: true,
  });
  const scale = Number(values.scale);
  if (!(scale > 0) || !Number.isFinite(scale)) {
    console.error(`${name}: --scale must be a positive number, got "${values.scale}"`);
    process.exitCode = 2;
    return;
  }
  const startedAt = performance.now();
  const redis = connectRedis();
  const prefixes: string[] = [];
  const dirs: string[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const context: BenchContext = {
    name,
    scale,
    scaled: (count, min = 1) => Math.max(min, Math.round(count * scale)),
    redis,
    prefix: (label = 'bench') => {
      const prefix = freshPrefix(label);
      prefixes.push(prefix);
      return prefix;
    },
    tempDir: async () => {
      const dir = await mkdtemp(join(tmpdir(), `sta-bench-${name}-`));
      dirs.push(dir);
      return dir;
    },
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
    log: (message) => {
      process.stderr.write(`[${name} ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
    },
  };

  let cleaned: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error: unknown) {
          context.log(`clean-up step failed: ${messageOf(error)}`);
        }
      }
      for (const prefix of prefixes) {
        await deletePrefix(redis, prefix).catch((error: unknown) => {
          context.log(`could not delete ${prefix}:*: ${messageOf(error)}`);
        });
      }
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      await redis.quit().catch(() => undefined);
    })());
  // run-all stops a benchmark with SIGTERM (or the user presses Ctrl-C): still leave nothing behind.
  const onSignal = (signal: NodeJS.Signals) => {
    context.log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let measurement: Measurement | null = null;
  let error: string | undefined;
  try {
    measurement = await body(context);
  } catch (thrown: unknown) {
    error = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
    console.error(`${name}: ${error}`);
  }
  await cleanUp();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const notes = [...(measurement?.notes ?? [])];
  if (scale !== 1) notes.push(`run at --scale ${scale}`);
  const result: BenchResult = {
    name,
    measured: measurement?.measured ?? 'error',
    value: measurement?.value ?? null,
    target: measurement?.target ?? '',
    pass: measurement?.pass ?? false,
    figures: measurement?.figures ?? {},
    notes,
    scale,
    durationMs: Math.round(performance.now() - startedAt),
    benchPeakRssMb: peakRssMb(),
    prefixes,
    ...(error === undefined ? {} : { error }),
  };
  console.log(formatResult(result));
  if (values['result-file'] !== undefined) await writeFile(values['result-file'], `${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = error !== undefined ? 2 : result.pass ? 0 : 1;
}

/** The human-readable block a benchmark prints when it ends. */
export function formatResult(result: BenchResult): string {
  const lines = [`${result.name}: ${result.measured} (target ${result.target}) ${result.pass ? 'PASS' : 'MISS'}`];
  for (const [key, value] of Object.entries(result.figures)) lines.push(`  ${key}: ${String(value)}`);
  for (const note of result.notes) lines.push(`  note: ${note}`);
  if (result.error !== undefined) lines.push(`  error: ${result.error.split('\n')[0] ?? ''}`);
  return lines.join('\n');
}

/** Peak resident set of this process so far, MB. */
export function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Polls `check` every `pollMs` until it returns true.
 *
 * @throws {Error} naming `what` when `timeoutMs` passes first.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, options: { timeoutMs: number; pollMs?: number }): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(options.pollMs ?? 20);
  }
}

/** Redis `used_memory` (bytes): the whole server, so other clients' writes show up in it too. */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match?.[1]) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/**
 * Bytes Redis holds for the keys matching `pattern` (MEMORY USAGE, every element counted), by a
 * label `classify` gives each key. Unlike an INFO delta, other clients' writes do not count.
 */
export async function keyMemoryBytes(redis: Redis, pattern: string, classify: (key: string) => string = () => 'all'): Promise<Record<string, { keys: number; bytes: number }>> {
  const totals: Record<string, { keys: number; bytes: number }> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const bytes = Number(replies[i]?.[1] ?? 0);
      const label = classify(key);
      const total = (totals[label] ??= { keys: 0, bytes: 0 });
      total.keys += 1;
      total.bytes += bytes;
    });
  } while (cursor !== '0');
  return totals;
}

/** A simulator running in a child process (test/bench/simulator-process.ts). */
export interface SimulatorProcess {
  readonly url: string;
  readonly pid: number;
  stats(): Promise<SimulatorStats>;
  setFaults(faults: Partial<SimulatorFaults>): Promise<void>;
  /** Forgets every authenticator and counter (configuration stays). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const SIM_URL_MARK = 'SIM_URL ';

/**
 * Starts the simulator in a child process, waits for its URL and registers its shutdown with the
 * context. Default tenant {@link BENCH_TENANT}, key {@link BENCH_API_KEY}, any user exists.
 */
export async function spawnSimulator(context: BenchContext, options: SimulatorOptions = {}): Promise<SimulatorProcess> {
  const full: SimulatorOptions = {
    tenants: [{ code: BENCH_TENANT }],
    apiKeys: [{ key: BENCH_API_KEY, tenants: '*' }],
    ...options,
  };
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'simulator-process.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, SIM_OPTIONS: JSON.stringify(full) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    resolve();
  }));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    })());
  context.defer(close);

  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      reject(new Error('the simulator process did not print its URL within 30 s'));
    }, 30_000);
    lines.on('line', (line) => {
      if (!line.startsWith(SIM_URL_MARK)) return;
      clearTimeout(timer);
      resolve(line.slice(SIM_URL_MARK.length).trim());
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator process exited (${String(code)}) before printing its URL`));
    });
  });
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/_sim/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} /_sim/${path}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  return {
    url,
    pid: child.pid ?? -1,
    stats: async () => (await control('GET', 'stats')) as SimulatorStats,
    setFaults: async (faults) => {
      await control('PUT', 'faults', faults);
    },
    reset: async () => {
      await control('POST', 'reset');
    },
    close,
  };
}

/** Requests of the simulator's stats that were answered with something other than 429. */
export function acceptedRequests(stats: SimulatorStats): number {
  return stats.requests.total - (stats.requests.byStatus['429'] ?? 0) - (stats.requests.byStatus['dropped'] ?? 0);
}
