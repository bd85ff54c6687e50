/**
 * Runs the CLI the way a user does: `node bin/sta-migrate.js …` in a child process (the built
 * dist/, as `npm ci` leaves it), with an explicit environment and captured output.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/sta-migrate.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** The whole environment the command sees (PATH and HOME are added). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Environment with nothing inherited from the developer's shell but PATH/HOME. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', LOG_LEVEL: 'info', ...env };
}

/** A CLI process started by {@link startCli}. */
export interface StartedCli {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Settles when the process exits. */
  readonly result: Promise<CliResult>;
  /** Everything written so far. */
  output(): { stdout: string; stderr: string };
}

/** Children still running: killed when the test process exits, so a timed-out test leaves none behind. */
const running = new Set<ChildProcessByStdio<null, Readable, Readable>>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts the CLI; await `result` for the end, or {@link waitForOutput} for a line. */
export function startCli(args: readonly string[], options: CliOptions = {}): StartedCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, result, output: () => ({ stdout, stderr }) };
}

/**
 * Waits until the process's stdout matches `pattern` (polling, with a deadline).
 *
 * @throws when the deadline passes or the process exits first.
 */
export async function waitForOutput(started: StartedCli, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const state = { exited: false };
  void started.result.then(() => {
    state.exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(started.output().stdout);
    if (match) return match;
    if (state.exited || Date.now() > deadline) {
      const { stdout, stderr } = started.output();
      throw new Error(`no output matching ${String(pattern)} (${state.exited ? 'process exited' : 'timed out'})\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}
