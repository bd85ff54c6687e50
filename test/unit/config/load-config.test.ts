import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnvironment, Secret } from '../../../src/config/index.js';

const KEY = 'sk-test-0123456789abcdef0123456789abcdef';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error: unknown) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.sta.objectIdFormat).toBe('base64');
    expect(config.report.dir).toBe('./reports');
    expect(config.log.level).toBe('info');
    expect(config.log.levelSet).toBe(false);
    expect(config.sta.baseUrl).toBeNull();
    expect(config.sta.apiKey).toBeNull();
  });

  it('reads every variable into a typed tree', () => {
    const config = loadConfig({
      STA_BASE_URL: 'https://api.eu.safenetid.com',
      STA_API_KEY: KEY,
      STA_TENANT: 'ACME',
      STA_OBJECT_ID_FORMAT: 'hex',
      STA_RATE_LIMIT: '25.5',
      WORKER_CONCURRENCY: '32',
      REDIS_URL: 'rediss://user:pw@redis.example:6380/2',
      REPORT_DIR: '/var/reports',
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: 'hunter2',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config.sta.baseUrl?.href).toBe('https://api.eu.safenetid.com/');
    expect(config.sta.apiKey?.reveal()).toBe(KEY);
    expect(config.sta.tenant).toBe('ACME');
    expect(config.sta.objectIdFormat).toBe('hex');
    expect(config.sta.rateLimitPerSecond).toBe(25.5);
    expect(config.worker.concurrency).toBe(32);
    expect(config.redis.url).toBe('rediss://user:pw@redis.example:6380/2');
    expect(config.report.dir).toBe('/var/reports');
    expect(config.dashboard.password?.reveal()).toBe('hunter2');
    expect(config.log).toEqual({ level: 'debug', levelSet: true });
  });

  it('is frozen all the way down', () => {
    const config = loadConfig({ STA_TENANT: 'ACME' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sta)).toBe(true);
    expect(() => {
      (config.sta as { tenant: string | null }).tenant = 'X';
    }).toThrow(TypeError);
  });

  it('reports every bad variable at once, by name', () => {
    const error = configError(() =>
      loadConfig({
        STA_BASE_URL: 'ftp://nope',
        STA_RATE_LIMIT: 'fast',
        WORKER_CONCURRENCY: '0',
        STA_OBJECT_ID_FORMAT: 'base32',
        REDIS_URL: 'http://localhost',
        LOG_LEVEL: 'loud',
      }),
    );
    expect(error.issues.map((issue) => issue.setting).sort()).toEqual(
      ['LOG_LEVEL', 'REDIS_URL', 'STA_BASE_URL', 'STA_OBJECT_ID_FORMAT', 'STA_RATE_LIMIT', 'WORKER_CONCURRENCY'].sort(),
    );
    expect(error.message).toContain("STA_RATE_LIMIT: must be a number (requests per second, all workers together) (got 'fast')");
    expect(error.message).toContain('WORKER_CONCURRENCY: must be a whole number from 1 to 1000');
  });

  it('lists required settings that are missing together with invalid ones', () => {
    const error = configError(() => loadConfig({ STA_RATE_LIMIT: '-1' }, { require: ['STA_BASE_URL', 'STA_API_KEY'] }));
    expect(error.issues.map((issue) => issue.setting)).toEqual(['STA_RATE_LIMIT', 'STA_BASE_URL', 'STA_API_KEY']);
    expect(error.message).toContain('STA_API_KEY: is required for this command but not set');
  });

  it('treats blank values as unset', () => {
    const error = configError(() => loadConfig({ STA_API_KEY: '   ', STA_BASE_URL: '' }, { require: ['STA_API_KEY', 'STA_BASE_URL'] }));
    expect(error.issues).toHaveLength(2);
  });

  it('names the command-line flag when the bad value came from one', () => {
    const error = configError(() => loadConfig({}, { overrides: { STA_RATE_LIMIT: 'abc' }, flags: { STA_RATE_LIMIT: '--rate-limit' } }));
    expect(error.issues[0]?.setting).toBe('--rate-limit');
  });

  it('lets flags win over the environment', () => {
    const config = loadConfig({ WORKER_CONCURRENCY: '4' }, { overrides: { WORKER_CONCURRENCY: '9' } });
    expect(config.worker.concurrency).toBe(9);
  });

  it('never echoes the API key, even when other settings are wrong', () => {
    const error = configError(() => loadConfig({ STA_API_KEY: KEY, STA_RATE_LIMIT: KEY }, { require: ['STA_BASE_URL'] }));
    // The rate limit echo is truncated and the key variable itself is never echoed.
    expect(error.message).not.toContain(KEY);
    const config = loadConfig({ STA_API_KEY: KEY });
    const printed = [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.sta.apiKey), String(config.sta.apiKey)];
    for (const text of printed) expect(text).not.toContain(KEY);
  });
});

describe('Secret', () => {
  it('reveals only through reveal()', () => {
    const secret = new Secret(KEY);
    expect(secret.reveal()).toBe(KEY);
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect(secret)).toBe('Secret([redacted])');
  });
});

describe('readEnvironment', () => {
  it('puts .env under the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sta-env-'));
    const path = join(dir, '.env');
    writeFileSync(path, 'STA_TENANT=FROM_FILE\nSTA_RATE_LIMIT=7\n');
    const env = readEnvironment({ STA_TENANT: 'FROM_ENV' }, path);
    expect(env['STA_TENANT']).toBe('FROM_ENV');
    expect(env['STA_RATE_LIMIT']).toBe('7');
  });

  it('is the plain environment when there is no .env', () => {
    const env = { A: '1' };
    expect(readEnvironment(env, '/nonexistent/.env')).toBe(env);
  });
});

describe('STA_API_KEY', () => {
  it('rejects a key an HTTP header cannot carry, without echoing it', () => {
    const pasted = `${KEY}\nextra`;
    const error = configError(() => loadConfig({ STA_API_KEY: pasted }));
    expect(error.issues[0]?.setting).toBe('STA_API_KEY');
    expect(error.message).toContain('printable ASCII');
    expect(error.message).not.toContain(KEY);
  });
});
