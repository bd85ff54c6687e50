/**
 * The API key (and the dashboard password) never reach a log line, stderr or a report, and
 * attestation payloads never reach a log line or a report — checked on real code paths: the
 * compiled CLI (bin/sta-migrate.js) at LOG_LEVEL=trace against a real simulator and Redis, including 404s, a 500 retry,
 * a pre-flight rejection, the circuit breaker and configuration errors; then the logger itself
 * with the key hidden in awkward places.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exportRecordOf, generateRecords, userIdFor, writeExport } from '../../../fixtures/export-generator.js';
import type { ExportRecord } from '../../../fixtures/export-record.js';
import { Secret } from '../../../src/config/secret.js';
import { createLogger } from '../../../src/log/logger.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { STA_MESSAGES } from '../../../src/sta/documented-messages.js';
import { cleanEnv, REPO_ROOT, type CliResult } from '../../helpers/cli.js';
import { connectRedis, deletePrefix, freshPrefix, REDIS_URL } from '../../helpers/redis.js';
import { simRequest } from '../../helpers/sim-http.js';

/** Fresh per test run, shaped like a real key: a hit can only come from this process. */
const API_KEY = `sk-${randomBytes(16).toString('hex')}`;
const DASHBOARD_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const TENANT = 'ACME';

// 10 real registrations over 8 users; users 6 and 7 do not exist in STA (404), and one more
// record carries a truncated attestation object (rejected by pre-flight).
const SEED = 4242;
const USERS = 8;
const generated = [...generateRecords({ count: 10, users: USERS, seed: SEED })].map(exportRecordOf);
const missingUsers = new Set([userIdFor(SEED, 6), userIdFor(SEED, 7)]);
const existingUsers = Array.from({ length: USERS }, (_, index) => userIdFor(SEED, index)).filter((userId) => !missingUsers.has(userId));
const firstRecord = generated[0]!;
const broken: ExportRecord = { ...firstRecord, attestationObject: firstRecord.attestationObject.slice(0, -40), externalId: 'cms-broken' };
const records = [...generated, broken];
const expectedFailed = generated.filter((record) => missingUsers.has(record.userId)).length;

/**
 * What must never be written: the secrets, and each attestation payload — whole, and its first
 * and last 32 characters, so a payload cut short in a message is caught too.
 */
function payloadNeedles(): string[] {
  const needles = new Set<string>();
  for (const record of records) {
    for (const value of [record.attestationObject, record.clientDataJson]) {
      needles.add(value);
      needles.add(value.slice(0, 32));
      needles.add(value.slice(-32));
    }
  }
  return [...needles];
}

function found(text: string, needles: readonly string[]): string[] {
  return needles.filter((needle) => text.includes(needle));
}

interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

const logLineSchema = z.looseObject({ level: z.number(), msg: z.string().optional() });

/** The JSON log lines among a command's stdout (the summary is plain text). */
function logLines(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const parsed = logLineSchema.safeParse(JSON.parse(line));
    if (parsed.success) lines.push(parsed.data);
  }
  return lines;
}

/** Every file under `dir`, read as text, keyed by path. */
async function readTree(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path, await readFile(path, 'utf8'));
    }
  }
  return files;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Compiles the CLI as `npm run build` does, but into its own folder (bin/, dist/, package.json and
 * a link to node_modules): other test files rebuilding the shared dist/ at the same time can
 * neither break this file's runs nor be broken by its build.
 */
async function buildCli(root: string): Promise<string> {
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(root, 'dist')], { cwd: REPO_ROOT });
  await cp(join(REPO_ROOT, 'bin'), join(root, 'bin'), { recursive: true });
  await cp(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return join(root, 'bin/sta-migrate.js');
}

let redis: Redis;
let workDir: string;
let bin: string;
let exportPath: string;
const prefixes: string[] = [];
const simulators: RunningSimulator[] = [];

beforeAll(async () => {
  redis = connectRedis();
  workDir = await mkdtemp(join(tmpdir(), 'sta-logging-'));
  bin = await buildCli(join(workDir, 'cli'));
  exportPath = join(workDir, 'export.csv');
  await writeExport(records, { path: exportPath, format: 'csv' });
}, 180_000);

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
  for (const prefix of prefixes.splice(0)) await deletePrefix(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
  await rm(workDir, { recursive: true, force: true });
});

async function simulator(apiKey: string): Promise<RunningSimulator> {
  const sim = await startSimulator({ port: 0, tenants: [{ code: TENANT }], apiKeys: [{ key: apiKey, tenants: '*' }], users: existingUsers });
  simulators.push(sim);
  return sim;
}

/** The environment of one CLI run: its own queue prefix and report folder, everything logged. */
function cliEnv(overrides: Record<string, string>): { env: Record<string, string>; reportDir: string } {
  const prefix = freshPrefix('logs');
  prefixes.push(prefix);
  const reportDir = join(workDir, `reports-${prefix}`);
  return {
    reportDir,
    env: {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      STA_API_KEY: API_KEY,
      STA_TENANT: TENANT,
      STA_RATE_LIMIT: '500',
      WORKER_CONCURRENCY: '4',
      REPORT_DIR: reportDir,
      DASHBOARD_PASSWORD,
      LOG_LEVEL: 'trace',
      ...overrides,
    },
  };
}

/** Runs the compiled CLI to completion from the work folder (no stray .env from the repository). */
function cli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: workDir, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output });
    });
  });
}

function expectNoSecrets(where: string, text: string, secrets: readonly string[] = [API_KEY, DASHBOARD_PASSWORD]): void {
  expect(found(text, secrets), `a secret in ${where}`).toEqual([]);
}

describe('the CLI at LOG_LEVEL=trace', () => {
  it('writes neither the API key nor attestation payloads during a run with 404s, a 500 and a rejected record', async () => {
    const sim = await simulator(API_KEY);
    const inject = await simRequest(sim.url, '/_sim/inject', {
      apiKey: null,
      method: 'POST',
      body: { operation: 'create', status: 500, message: STA_MESSAGES.internalServerError },
    });
    expect(inject.status).toBe(200);
    const { env, reportDir } = cliEnv({ STA_BASE_URL: sim.url });
    const runId = `logs-${randomBytes(4).toString('hex')}`;

    const run = await cli(['run', exportPath, '--run', runId], env);
    const report = await cli(['report', runId, '--verify'], env);
    const status = await cli(['status', runId, '--json'], env);

    // The failure paths really ran, and were logged at trace level.
    expect(run.code, run.stderr).toBe(1);
    const summary = z
      .object({ summary: z.object({ total: z.number(), imported: z.number(), failed: z.number(), invalid: z.number() }) })
      .parse(JSON.parse(await readFile(join(reportDir, runId, 'report.json'), 'utf8'))).summary;
    expect(summary).toEqual({ total: records.length, imported: generated.length - expectedFailed, failed: expectedFailed, invalid: 1 });
    expect(expectedFailed).toBeGreaterThan(0);
    const lines = logLines(run.stdout);
    expect(lines.some((line) => line.level === 20 && line.msg === 'STA call')).toBe(true);
    expect(lines.some((line) => line.msg === 'transient failure; will retry')).toBe(true);
    expect(lines.filter((line) => line.msg === 'job failed' && line['status'] === 404)).toHaveLength(expectedFailed);
    expect(sim.stats().requests.byStatus['500']).toBe(1);
    expect(report.code, report.stderr).toBe(1);
    expect(status.code, status.stderr).toBe(0);

    const needles = [API_KEY, DASHBOARD_PASSWORD, ...payloadNeedles()];
    for (const [name, result] of Object.entries({ run, report, status })) {
      expect(found(result.stdout, needles), `${name} stdout`).toEqual([]);
      expect(found(result.stderr, needles), `${name} stderr`).toEqual([]);
    }
    const files = await readTree(reportDir);
    expect([...files.keys()].map((path) => path.split('/').at(-1))).toEqual(expect.arrayContaining(['report.json', 'report.csv', 'report.html']));
    for (const [path, text] of files) expect(found(text, needles), path).toEqual([]);
  });

  it('keeps the key out of the output when STA rejects it and the circuit breaker stops the run', async () => {
    const sim = await simulator(`sk-${randomBytes(16).toString('hex')}`); // accepts another key only
    const { env, reportDir } = cliEnv({ STA_BASE_URL: sim.url });

    const run = await cli(['run', exportPath], env);

    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain(STA_MESSAGES.invalidCredentials);
    expect(logLines(run.stdout).some((line) => line.msg?.startsWith('circuit breaker tripped'))).toBe(true);
    expectNoSecrets('stdout', run.stdout);
    expectNoSecrets('stderr', run.stderr);
    for (const [path, text] of await readTree(reportDir)) expectNoSecrets(path, text);
  });

  it('keeps the key out of configuration errors', async () => {
    const { env } = cliEnv({ STA_BASE_URL: 'http://127.0.0.1:9', STA_RATE_LIMIT: 'fast' });

    const work = await cli(['work'], env);
    const run = await cli(['run', exportPath, '--concurrency', 'lots'], env);

    expect(work.code).toBe(2);
    expect(work.stderr).toMatch(/STA_RATE_LIMIT: must be a number/);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--concurrency: must be a whole number/);
    expect(run.stderr).toMatch(/STA_RATE_LIMIT/);
    for (const [name, result] of Object.entries({ work, run })) {
      expectNoSecrets(`${name} stdout`, result.stdout);
      expectNoSecrets(`${name} stderr`, result.stderr);
    }
  });

  it('keeps the key out of the error when STA is unreachable at start', async () => {
    const { env } = cliEnv({ STA_BASE_URL: `http://127.0.0.1:${await closedPort()}` });

    const run = await cli(['run', exportPath], env);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/STA at http:\/\/127\.0\.0\.1:\d+ is not reachable/);
    expectNoSecrets('stdout', run.stdout);
    expectNoSecrets('stderr', run.stderr);
  });
});

describe('createLogger', () => {
  const attestationObject = firstRecord.attestationObject;
  const clientDataJson = firstRecord.clientDataJson;

  function capture(options: { secret: string; pretty: boolean }): { logger: ReturnType<typeof createLogger>; output: () => string } {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const logger = createLogger({ level: 'trace', destination, pretty: options.pretty, secrets: [options.secret] });
    return { logger, output: () => chunks.join('') };
  }

  // A key with characters JSON escapes (" and \) is written escaped; pino-pretty unescapes it.
  const keys = { 'a random sk- key': API_KEY, 'a key with JSON-escaped characters': `sk-${randomBytes(4).toString('hex')}"quoted\\slash` };

  describe.each([
    ['JSON', false],
    ['pretty', true],
  ])('%s output', (_label, pretty) => {
    it.each(Object.entries(keys))('never writes %s, wherever it hides', (_name, key) => {
      const { logger, output } = capture({ secret: key, pretty });

      logger.info({ headers: { apikey: key } }, 'header bag');
      logger.warn({ error: new Error(`request failed for ${key}`) }, 'error key');
      logger.error({ err: new Error(`boom ${key}`) }, 'err key');
      logger.debug({ deep: { deeper: { deepest: { note: `key=${key}` } } } }, 'deep value');
      logger.info({ list: [key, { value: key }] }, 'array');
      logger.info({ [key]: true }, 'as a property name');
      logger.trace('interpolated %s and %j', key, { key });
      logger.child({ apiKey: key, context: { token: key } }).info('child bindings');
      logger.info(`in the message ${key}`);

      const text = output();
      for (const message of ['header bag', 'error key', 'err key', 'deep value', 'array', 'as a property name', 'interpolated', 'child bindings', 'in the message']) {
        expect(text, message).toContain(message);
      }
      expect(text).toContain('request failed for [redacted]'); // the Error under `error` is rendered, scrubbed
      expect(text).not.toContain(key);
      expect(text).not.toContain(JSON.stringify(key).slice(1, -1));
    });

    it('prints a Secret as [redacted]', () => {
      const { logger, output } = capture({ secret: 'unrelated-secret', pretty });

      logger.info({ credential: new Secret(API_KEY), nested: { apiKeySecret: new Secret(API_KEY) } }, 'secret holder');

      const text = output();
      expect(text).toContain('secret holder');
      expect(text).not.toContain(API_KEY);
      expect(text.match(/\[redacted\]/g)).toHaveLength(2);
    });

    it('blanks attestation payloads at any depth', () => {
      const { logger, output } = capture({ secret: API_KEY, pretty });

      logger.info({ attestationObject, clientDataJson }, 'top level');
      logger.info({ a: { b: { attestationObject } } }, 'two deep');
      logger.info({ job: { data: { record: { attestationObject, clientDataJSON: clientDataJson } } } }, 'three deep');
      logger.info({ batch: [{ metadata: { attestation: { clientDataJson, attestationObject } } }] }, 'in an array');
      logger.child({ job: { data: { attestationObject } } }).info('in bindings');

      const text = output();
      for (const message of ['top level', 'two deep', 'three deep', 'in an array', 'in bindings']) expect(text).toContain(message);
      expect(found(text, [attestationObject, clientDataJson, attestationObject.slice(0, 32), clientDataJson.slice(-32)])).toEqual([]);
    });
  });
});
