import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { checkReportDir } from '../report/report-files.js';
import { createRedis, pingRedis, redactRedisUrl } from '../redis/connection.js';
import { startSimulator } from '../simulator/index.js';
import { CliError, EXIT, writeLine, type CliIo, type ExitCode } from './cli-io.js';
import { packageRoot } from './package-root.js';
import { executeRun } from './run-flow.js';
import { Runtime } from './runtime.js';
import { configFor, DEFAULT_MAX_WAITING, prepareIngest } from './shared-options.js';
import { startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.js';

/** fixtures/demo/demo-setup.json: who exists in the demo STA, what is already there, what to expect. */
interface DemoSetup {
  readonly tenant: string;
  readonly apiKey: string;
  readonly users: string[];
  readonly seed: { userId: string; attestationObject: string; clientDataJson: string; friendlyName?: string }[];
  readonly expected: Record<string, number>;
}

const DEMO_RATE_LIMIT = 50;

export function demoCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return new Command('demo')
    .description('the whole migration on embedded defaults: built-in STA simulator, Redis (or a throw-away one), the committed demo export')
    .option('--keep-redis-data', 'leave the demo run in Redis (default: only the report remains)', false)
    .action(async (flags: { keepRedisData: boolean }) => {
      const root = packageRoot();
      const setup = JSON.parse(await readFile(join(root, 'fixtures/demo/demo-setup.json'), 'utf8')) as DemoSetup;
      const absoluteExport = join(root, 'fixtures/demo/demo-export.csv');
      const fromCwd = relative(process.cwd(), absoluteExport);
      const exportPath = fromCwd.startsWith('..') || isAbsolute(fromCwd) ? absoluteExport : fromCwd;
      const base = configFor(io, []);
      await checkReportDir(base.report.dir);

      let throwaway: ThrowawayRedis | null = null;
      let redisUrl = base.redis.url;
      const probe = createRedis(redisUrl);
      probe.on('error', () => undefined);
      const problem = await pingRedis(probe, redisUrl, 1500);
      probe.disconnect();
      if (problem) {
        throwaway = await startThrowawayRedis();
        if (!throwaway) {
          throw new CliError(
            `${problem}\nThe demo needs Redis. Start one with \`docker compose up -d redis\` (or install redis-server), or point REDIS_URL at yours.`,
            EXIT.usage,
          );
        }
        redisUrl = throwaway.url;
        writeLine(io.stdout, `No Redis at ${redactRedisUrl(base.redis.url)}; started a throw-away redis-server at ${redisUrl} for this demo.`);
      }

      const simulator = await startSimulator({
        tenants: [{ code: setup.tenant }],
        apiKeys: [{ key: setup.apiKey, tenants: [setup.tenant] }],
        users: setup.users,
        faults: { rateLimitPerSecond: DEMO_RATE_LIMIT, latencyMs: 5 },
      });
      const runId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
      // Its own prefix per demo: two demos (or a demo next to a real run) never share keys.
      const prefix = `sta-migrate-demo-${randomBytes(3).toString('hex')}`;
      const config = configFor(io, [], {
        STA_BASE_URL: simulator.url,
        STA_API_KEY: setup.apiKey,
        STA_TENANT: setup.tenant,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        STA_RATE_LIMIT: String(DEMO_RATE_LIMIT),
      });
      const rt = new Runtime(config, io, { interactive: true });
      try {
        for (const seed of setup.seed) {
          const response = await fetch(`${simulator.url}/_sim/tenants/${encodeURIComponent(setup.tenant)}/users/${encodeURIComponent(seed.userId)}/authenticators`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'FIDO', metadata: { attestation: { attestationObject: seed.attestationObject, clientDataJson: seed.clientDataJson }, friendlyName: seed.friendlyName } }),
          });
          if (!response.ok) throw new Error(`seeding the demo STA failed: HTTP ${response.status} ${await response.text()}`);
        }
        writeLine(io.stdout, `Built-in STA simulator at ${simulator.url} (tenant ${setup.tenant}, ${setup.users.length} users, ${setup.seed.length} authenticators already registered).`);
        writeLine(io.stdout, `Importing ${exportPath} as run ${runId} …`);
        const prepared = await prepareIngest([exportPath], { run: runId, map: [], strict: false, maxWaiting: DEFAULT_MAX_WAITING }, config, new Date());
        const result = await executeRun(rt, {
          prepared,
          maxWaiting: DEFAULT_MAX_WAITING,
          verify: true,
          note: 'The failed, invalid, conflict and duplicate records are planted in fixtures/demo/demo-export.csv so the report shows every outcome.',
        });
        const summary = result.report?.summary;
        const matches =
          summary !== undefined &&
          summary.imported === setup.expected['imported'] &&
          summary.alreadyImported === setup.expected['alreadyImported'] &&
          summary.conflict === setup.expected['conflict'] &&
          summary.failed === setup.expected['failed'] &&
          summary.invalid === setup.expected['invalid'] &&
          summary.duplicate === setup.expected['duplicate'] &&
          summary.verified.importedButMissing === 0;
        if (result.report) writeLine(io.stdout, `Open the report: ${resolve(result.report.paths.html)}`);
        if (!matches) writeLine(io.stderr, `The demo's outcomes differ from fixtures/demo/demo-setup.json "expected": ${JSON.stringify(setup.expected)}`);
        if (flags.keepRedisData) writeLine(io.stdout, `The run stays in Redis: QUEUE_PREFIX=${prefix} REDIS_URL=${redactRedisUrl(redisUrl)} npx sta-migrate status ${runId}`);
        else await cleanDemoKeys(rt, prefix);
        setExit(matches ? EXIT.ok : EXIT.problems);
      } finally {
        await rt.close();
        await simulator.close();
        await throwaway?.stop();
      }
    });
}

/** The demo leaves no queue or run behind in a shared Redis: only its report files. */
async function cleanDemoKeys(rt: Runtime, prefix: string): Promise<void> {
  const queue = await rt.queue();
  await queue.obliterate({ force: true });
  const redis = await rt.redis();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
