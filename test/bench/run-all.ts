/**
 * The benchmark suite (`npm run bench`; not part of `npm test`):
 *
 *   npm run bench -- [--scale F] [--only NAME[,NAME…]] [--timeout-min N]
 *
 * Runs each benchmark in its own process, one after the other (a quiet machine gives honest
 * figures; nothing here runs in parallel), prints a table `name | measured | target | pass`, and
 * writes bench-results/results.json (git-ignored). `--scale` multiplies record counts (0.05 for a
 * quick check; ratio benchmarks with fixed overheads may then miss their targets). After each
 * benchmark it checks that no process of its group is left and no Redis key under its prefixes
 * remains (and removes what it finds, failing the benchmark). Exit 0 when every target was met,
 * 1 when one was missed or a benchmark failed, 2 on a usage error.
 *
 * A benchmark file follows the contract of bench-kit.ts (`--scale`, `--result-file`, exit 0/1/2).
 * Files of {@link OPTIONAL_BENCHMARKS} are run when present; one that writes no result file is
 * judged by its exit code.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { connectRedis, deletePrefix } from '../helpers/redis.js';
import { BENCH_DIR, REPO_ROOT, type BenchResult } from './bench-kit.js';

/** The suite, in the order it runs. */
const BENCHMARKS = ['ingest-vs-addbulk', 'ingest-1m-rss', 'rate-limit-pacing', 'latency-speedup', 'e2e-vs-bullmq-noop', 'report-verify-100k'] as const;
/** Benchmarks other work adds; run when their file exists. */
const OPTIONAL_BENCHMARKS = ['worker-memory', 'report-large'] as const;

const RESULTS_DIR = join(REPO_ROOT, 'bench-results');
const execFileAsync = promisify(execFile);

/** One row of the table and of results.json. */
interface SuiteEntry {
  readonly name: string;
  readonly exitCode: number | null;
  readonly result: BenchResult | null;
  readonly measured: string;
  readonly target: string;
  readonly pass: boolean;
  /** What the suite itself found wrong (leftovers, crash, timeout). */
  readonly problems: readonly string[];
  readonly durationMs: number;
}

async function main(): Promise<number> {
  let values: { scale: string; only: string[]; 'timeout-min': string };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { scale: { type: 'string', default: '1' }, only: { type: 'string', multiple: true, default: [] }, 'timeout-min': { type: 'string', default: '60' } },
      strict: true,
    }));
  } catch (error: unknown) {
    console.error(`run-all: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const scale = Number(values.scale);
  const timeoutMin = Number(values['timeout-min']);
  if (!(scale > 0) || !Number.isFinite(scale) || !(timeoutMin > 0)) {
    console.error('run-all: --scale and --timeout-min must be positive numbers');
    return 2;
  }
  const available: string[] = [...BENCHMARKS, ...OPTIONAL_BENCHMARKS.filter((name) => existsSync(join(BENCH_DIR, `${name}.ts`)))];
  const only = values.only.flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean);
  const unknown = only.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    console.error(`run-all: unknown benchmark(s) ${unknown.join(', ')}; available: ${available.join(', ')}`);
    return 2;
  }
  const selected = only.length > 0 ? available.filter((name) => only.includes(name)) : available;

  const load = loadavg()[0] ?? 0;
  const cores = cpus().length;
  console.log(`benchmarks: ${selected.join(', ')} (scale ${scale}; ${cores} CPUs; load average ${load.toFixed(2)})`);
  if (load > cores * 0.5) console.log('warning: the machine is busy; timings and ratios will be pessimistic and noisy');

  const startedAt = new Date();
  const workDir = await mkdtemp(join(tmpdir(), 'sta-bench-suite-'));
  const entries: SuiteEntry[] = [];
  const stop = new AbortController();
  const onSignal = () => {
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const name of selected) {
      if (stop.signal.aborted) break;
      console.log(`\n=== ${name} ===`);
      entries.push(await runOne(name, { scale, timeoutMs: timeoutMin * 60_000, resultFile: join(workDir, `${name}.json`), signal: stop.signal }));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workDir, { recursive: true, force: true });
  }

  console.log(`\n${table(entries)}`);
  const failed = entries.filter((entry) => !entry.pass);
  for (const entry of entries) for (const problem of entry.problems) console.log(`${entry.name}: ${problem}`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const resultsPath = join(RESULTS_DIR, 'results.json');
  await writeFile(
    resultsPath,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        scale,
        interrupted: stop.signal.aborted,
        machine: { node: process.version, platform: process.platform, cpus: cores, cpuModel: cpus()[0]?.model ?? null, loadAverageAtStart: load },
        results: entries,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${resultsPath}`);
  if (stop.signal.aborted) return 130;
  return failed.length === 0 ? 0 : 1;
}

async function runOne(name: string, options: { scale: number; timeoutMs: number; resultFile: string; signal: AbortSignal }): Promise<SuiteEntry> {
  const started = performance.now();
  const problems: string[] = [];
  // A group of its own: whatever it spawns can be found (and stopped) once it has exited.
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), '--scale', String(options.scale), '--result-file', options.resultFile], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    detached: true,
  });
  const group = child.pid ?? 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => {
    resolve(code ?? (signal ? 128 : null));
  }));
  const stopGroup = () => {
    signalGroup(group, 'SIGTERM');
    setTimeout(() => {
      signalGroup(group, 'SIGKILL');
    }, 15_000).unref();
  };
  const timer = setTimeout(() => {
    problems.push(`timed out after ${Math.round(options.timeoutMs / 60_000)} min`);
    stopGroup();
  }, options.timeoutMs);
  options.signal.addEventListener('abort', stopGroup, { once: true });
  const exitCode = await exited;
  clearTimeout(timer);
  options.signal.removeEventListener('abort', stopGroup);

  if (await groupAlive(group)) {
    problems.push(`left processes running (killed): ${(await groupCommands(group)).join('; ')}`);
    signalGroup(group, 'SIGKILL');
  }
  let result: BenchResult | null = null;
  try {
    result = JSON.parse(await readFile(options.resultFile, 'utf8')) as BenchResult;
  } catch {
    if (!(OPTIONAL_BENCHMARKS as readonly string[]).includes(name) || exitCode !== 0) problems.push(`no result (exit code ${String(exitCode)})`);
  }
  if (result?.error !== undefined) problems.push(`error: ${result.error.split('\n')[0] ?? ''}`);
  for (const prefix of result?.prefixes ?? []) {
    const left = await leftoverKeys(prefix);
    if (left > 0) problems.push(`left ${left} Redis key(s) under ${prefix}: (deleted now)`);
  }
  const judged = result !== null ? result.pass : exitCode === 0;
  return {
    name,
    exitCode,
    result,
    measured: result?.measured ?? (exitCode === 0 ? 'exit 0' : `exit ${String(exitCode)}`),
    target: result?.target ?? (result === null ? 'exit 0' : ''),
    pass: judged && problems.length === 0,
    problems,
    durationMs: Math.round(performance.now() - started),
  };
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  if (group <= 0) return;
  try {
    process.kill(-group, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Whether any process of the group still runs 5 s after its leader exited (helpers such as tsx's
 * esbuild service end when their parent's pipe closes, which takes a moment on a loaded machine).
 */
async function groupAlive(group: number): Promise<boolean> {
  if (group <= 0) return false;
  for (let check = 0; check < 20; check += 1) {
    try {
      process.kill(-group, 0);
    } catch {
      return false;
    }
    await sleep(250);
  }
  return true;
}

/** The command lines of the group's processes (for the report of a leftover). */
async function groupCommands(group: number): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('ps', ['-eo', 'pgid=,pid=,args=']);
    return stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([pgid]) => Number(pgid) === group)
      .map(([, pid, ...args]) => `${pid ?? '?'} ${args.join(' ').slice(0, 160)}`);
  } catch {
    return ['(ps failed)'];
  }
}

/** Keys left under `prefix:`; deletes them. */
async function leftoverKeys(prefix: string): Promise<number> {
  const redis = connectRedis();
  try {
    return await deletePrefix(redis, prefix);
  } finally {
    await redis.quit().catch(() => undefined);
  }
}

function table(entries: readonly SuiteEntry[]): string {
  const rows = [['name', 'measured', 'target', 'pass'], ...entries.map((entry) => [entry.name, entry.measured, entry.target, entry.pass ? 'yes' : 'NO'])];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ');
  return [line(rows[0] ?? []), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.slice(1).map(line)].join('\n');
}

process.exitCode = await main();
