/**
 * docker-compose.yml is checked against the program it deploys: every variable it sets is one the
 * program reads, its defaults make a valid worker configuration, and every command and option it
 * runs (services, health checks, the usage lines in its comments) exists in the CLI.
 * There is no Docker engine here: this is what can be proved without one.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { CONFIG_VARIABLES, loadConfig } from '../../../src/config/load-config.js';

const COMPOSE_TEXT = readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');
const DOCKERFILE_TEXT = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');

const healthcheckSchema = z.looseObject({
  test: z.array(z.string()).optional(),
  disable: z.boolean().optional(),
  interval: z.string().optional(),
});
const serviceSchema = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.looseObject({ condition: z.string() })).optional(),
  healthcheck: healthcheckSchema.optional(),
  profiles: z.array(z.string()).optional(),
  container_name: z.string().optional(),
  hostname: z.string().optional(),
  stop_grace_period: z.string().optional(),
});
const composeSchema = z.looseObject({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.unknown()).optional(),
});
type Service = z.infer<typeof serviceSchema>;

// Compose honours YAML merge keys (`<<: *app`); so must the parser.
const compose = composeSchema.parse(parse(COMPOSE_TEXT, { merge: true }));

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
}

function environmentOf(name: string): Record<string, string> {
  return service(name).environment ?? {};
}

/** `${NAME:-default}` / `${NAME-default}` / `${NAME}` resolved against `env` as Compose does (unset or empty → default). */
function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    return value === undefined || value === '' ? (fallback ?? '') : value;
  });
}

function resolvedEnvironment(name: string, env: Readonly<Record<string, string>> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(environmentOf(name)).map(([key, value]) => [key, interpolate(value, env)]));
}

/** The value after `flag` in an argv-style command, if present. */
function flagValue(command: readonly string[], flag: string): string | undefined {
  const index = command.indexOf(flag);
  return index === -1 ? undefined : command[index + 1];
}

/** "45s", "1m30s", "500ms", "2m" → milliseconds (Compose duration syntax). */
function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  expect(parts.map((part) => part[0]).join(''), `duration '${text}'`).toBe(text);
  return parts.reduce((total, part) => total + Number(part[1]) * (units[part[2] ?? ''] ?? Number.NaN), 0);
}

/** Every argv the built image runs: service commands, health checks and the documented `docker compose run --rm cli …` lines. */
function cliInvocations(): { where: string; argv: string[] }[] {
  const invocations: { where: string; argv: string[] }[] = [];
  for (const [name, definition] of Object.entries(compose.services)) {
    if (definition.build === undefined) continue; // not our image (redis)
    if (definition.command) invocations.push({ where: `services.${name}.command`, argv: definition.command });
    const test = definition.healthcheck?.test;
    const binIndex = test?.indexOf('bin/sta-migrate.js') ?? -1;
    if (test && binIndex >= 0) invocations.push({ where: `services.${name}.healthcheck`, argv: test.slice(binIndex + 1) });
  }
  for (const match of COMPOSE_TEXT.matchAll(/^#\s+docker compose run --rm cli ([^#\n]+)/gm)) {
    invocations.push({ where: `comment: ${match[0].replace(/^#\s+/, '').trim()}`, argv: (match[1] ?? '').trim().split(/\s+/) });
  }
  const healthcheck = /^HEALTHCHECK .*$/m.exec(DOCKERFILE_TEXT.replace(/\\\n/g, ' '))?.[0] ?? '';
  const exec = /CMD\s+(\[.*\])/.exec(healthcheck)?.[1];
  if (exec) {
    const argv = z.array(z.string()).parse(JSON.parse(exec));
    invocations.push({ where: 'Dockerfile HEALTHCHECK', argv: argv.slice(argv.indexOf('bin/sta-migrate.js') + 1) });
  }
  return invocations;
}

/** Help text of the built CLI, per command ('' = the program). */
const help = new Map<string, string>();

/**
 * `sta-migrate [command] --help`, from the program the binary runs (src/cli/main.ts, in-process:
 * help touches no Redis, network or files, and needs no build of dist/).
 */
async function helpOf(command: string): Promise<string> {
  const cached = help.get(command);
  if (cached !== undefined) return cached;
  const output = { stdout: '', stderr: '' };
  const sink = (key: keyof typeof output) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        output[key] += chunk.toString();
        callback();
      },
    });
  const io = { stdout: sink('stdout'), stderr: sink('stderr'), env: {}, onSignal: () => () => undefined };
  const code = await main(command === '' ? ['--help'] : [command, '--help'], io);
  expect(code, `sta-migrate ${command} --help: ${output.stderr}`).toBe(0);
  help.set(command, output.stdout);
  return output.stdout;
}

function commandNames(programHelp: string): string[] {
  const section = programHelp.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((match) => match[1] ?? '');
}

function optionNames(commandHelp: string): Set<string> {
  const section = commandHelp.split(/^Options:$/m)[1] ?? '';
  return new Set([...section.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/gm)].map((match) => match[1] ?? ''));
}

/** The default commander prints for an option, e.g. `(default: "30000")`. */
function optionDefault(commandHelp: string, option: string): string | undefined {
  const start = commandHelp.indexOf(`${option} `);
  if (start === -1) return undefined;
  const rest = commandHelp.slice(start);
  const end = rest.search(/\n {2}-/);
  // Commander wraps long lines: read the option's block as one line.
  const block = (end === -1 ? rest : rest.slice(0, end)).replace(/\s+/g, ' ');
  return /\(default: "?([^")]*)"?\)/.exec(block)?.[1];
}

beforeAll(async () => {
  for (const command of ['', 'simulator', 'ingest', 'work', 'run', 'report', 'status']) await helpOf(command);
});

describe('docker-compose.yml services', () => {
  it('defines redis, simulator and worker for `up`, and the cli only under a profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['cli', 'redis', 'simulator', 'worker']);
    for (const name of ['redis', 'simulator', 'worker']) expect(service(name).profiles, name).toBeUndefined();
    expect(service('cli').profiles).toContain('tools');
  });

  it('runs redis 7 with AOF, fsync every second, noeviction, a ping health check and a named volume', () => {
    const redis = service('redis');
    expect(redis.image).toMatch(/^redis:7(\.|$|-)/);
    const command = redis.command ?? [];
    expect(flagValue(command, '--appendonly')).toBe('yes');
    expect(flagValue(command, '--appendfsync')).toBe('everysec');
    expect(flagValue(command, '--maxmemory-policy')).toBe('noeviction');
    expect(redis.healthcheck?.test?.join(' ')).toMatch(/redis-cli ping/);
    const dataVolume = (redis.volumes ?? []).find((volume) => volume.split(':')[1] === '/data');
    const volumeName = dataVolume?.split(':')[0] ?? '';
    expect(volumeName, 'a named volume (not a bind mount) holds /data').toMatch(/^[a-z0-9][a-z0-9_.-]*$/);
    expect(Object.keys(compose.volumes ?? {})).toContain(volumeName);
  });

  it('lets the worker scale: no container_name, hostname or published ports', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.hostname).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.command?.[0]).toBe('work');
  });

  it('starts the worker and the cli only once redis is healthy', () => {
    expect(service('worker').depends_on?.['redis']?.condition).toBe('service_healthy');
    expect(service('cli').depends_on?.['redis']?.condition).toBe('service_healthy');
  });

  it('checks the simulator by fetching /_sim/stats on the port it listens on', () => {
    const simulator = service('simulator');
    const port = flagValue(simulator.command ?? [], '--port');
    expect(flagValue(simulator.command ?? [], '--host')).toBe('0.0.0.0');
    expect(simulator.healthcheck?.test?.join(' ')).toContain(`fetch('http://127.0.0.1:${port ?? '?'}/_sim/stats')`);
  });

  it('mounts ./exports read-only at /data and ./reports at the cli report folder', () => {
    const cli = service('cli');
    expect(cli.volumes).toContain('./exports:/data:ro');
    const reports = (cli.volumes ?? []).find((volume) => volume.startsWith('./reports:'));
    expect(reports?.split(':')[1]).toBe(environmentOf('cli')['REPORT_DIR']);
  });
});

describe('docker-compose.yml settings', () => {
  it('sets only variables the program reads', () => {
    const known: readonly string[] = CONFIG_VARIABLES;
    for (const name of ['worker', 'cli']) {
      for (const variable of Object.keys(environmentOf(name))) expect(known, `${name}: ${variable}`).toContain(variable);
    }
  });

  it('gives the worker every setting it needs, each overridable from the shell or .env', () => {
    const environment = environmentOf('worker');
    for (const variable of ['REDIS_URL', 'STA_BASE_URL', 'STA_API_KEY', 'STA_TENANT', 'STA_RATE_LIMIT', 'WORKER_CONCURRENCY', 'LOG_LEVEL']) {
      expect(environment[variable], variable).toMatch(new RegExp(`^\\$\\{${variable}:-[^}]+\\}$`));
    }
  });

  it('gives the cli the same Redis, queue prefix and STA settings as the worker', () => {
    const cli = environmentOf('cli');
    for (const [variable, value] of Object.entries(environmentOf('worker'))) {
      if (variable !== 'LOG_LEVEL') expect(cli[variable], variable).toBe(value);
    }
  });

  it('leaves the cli log level unset unless the user sets one, so a terminal shows the progress bar, not every job', () => {
    const env = { STA_BASE_URL: 'https://api.eu.safenetid.com' };
    expect(loadConfig(resolvedEnvironment('cli', env)).log.levelSet).toBe(false);
    expect(loadConfig(resolvedEnvironment('cli', { ...env, LOG_LEVEL: 'debug' })).log).toEqual({ level: 'debug', levelSet: true });
  });

  it('resolves, with no .env, to a valid worker configuration aimed at the bundled redis and simulator', async () => {
    const config = loadConfig(resolvedEnvironment('worker'), { require: ['STA_BASE_URL', 'STA_API_KEY', 'STA_TENANT'] });
    expect(Object.keys(compose.services)).toContain(new URL(config.redis.url).hostname);

    const simulatorCommand = service('simulator').command ?? [];
    const simulatorHelp = await helpOf('simulator');
    expect(config.sta.baseUrl?.hostname).toBe('simulator');
    expect(config.sta.baseUrl?.port).toBe(flagValue(simulatorCommand, '--port'));
    expect(config.sta.apiKey?.reveal()).toBe(flagValue(simulatorCommand, '--api-key') ?? optionDefault(simulatorHelp, '--api-key'));
    // The simulator serves DEMO unless told otherwise (--tenant).
    expect(config.sta.tenant).toBe(flagValue(simulatorCommand, '--tenant') ?? 'DEMO');
  });

  it('uses the real STA when .env says so', () => {
    const config = loadConfig(
      resolvedEnvironment('worker', { STA_BASE_URL: 'https://api.eu.safenetid.com', STA_API_KEY: 'real-key', STA_TENANT: 'ACME', STA_RATE_LIMIT: '25' }),
      { require: ['STA_BASE_URL', 'STA_API_KEY'] },
    );
    expect(config.sta.baseUrl?.href).toBe('https://api.eu.safenetid.com/');
    expect(config.sta.apiKey?.reveal()).toBe('real-key');
    expect(config.sta.tenant).toBe('ACME');
    expect(config.sta.rateLimitPerSecond).toBe(25);
  });

  it('gives the worker longer to stop than its shutdown timeout', async () => {
    const worker = service('worker');
    const timeoutMs = Number(flagValue(worker.command ?? [], '--shutdown-timeout') ?? optionDefault(await helpOf('work'), '--shutdown-timeout'));
    expect(timeoutMs).toBeGreaterThan(0);
    // Docker's default is 10 s: without stop_grace_period in-flight jobs would be SIGKILLed.
    expect(durationMs(worker.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(timeoutMs + 5000);
  });
});

describe('commands run by the image', () => {
  it('finds the service commands, health checks and documented cli lines to check', () => {
    const wheres = cliInvocations().map((invocation) => invocation.where);
    expect(wheres).toEqual(expect.arrayContaining(['services.simulator.command', 'services.worker.command', 'services.cli.command', 'Dockerfile HEALTHCHECK']));
    expect(wheres.filter((where) => where.startsWith('comment:')).length).toBeGreaterThanOrEqual(3);
  });

  it('uses only real CLI commands and options', async () => {
    const commands = commandNames(await helpOf(''));
    expect(commands).toContain('work');
    for (const { where, argv } of cliInvocations()) {
      const [command, ...rest] = argv;
      expect(commands, where).toContain(command);
      const options = optionNames(await helpOf(command ?? ''));
      for (const option of rest.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=')[0] ?? arg)) {
        expect([...options], `${where}: ${option}`).toContain(option);
      }
    }
  });
});
