import { Command, InvalidArgumentError } from 'commander';
import { startSimulator, type SimulatorOptions } from '../simulator/index.js';
import { EXIT, writeLine, type CliIo, type ExitCode } from './cli-io.js';
import { collect } from './shared-options.js';

interface SimulatorFlags {
  readonly port: number;
  readonly host: string;
  readonly tenant: string[];
  readonly apiKey: string;
  readonly users?: string;
  readonly rateLimit?: number;
  readonly latencyMs: number;
  readonly faultRate: number;
  readonly dropRate: number;
  readonly importDisabled: boolean;
}

export function simulatorCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return new Command('simulator')
    .description("run the STA simulator (STA's authenticator API, in memory, with fault controls) until killed")
    .option('--port <n>', 'TCP port; 0 picks a free one', nonNegativeInt, 8080)
    .option('--host <address>', 'listen address', '127.0.0.1')
    .option('--tenant <code>', 'tenant code (repeatable)', collect, [])
    .option('--api-key <key>', 'the API key it accepts (all tenants)', 'sim-key')
    .option('--users <ids>', 'comma-separated base64 user ids that exist (default: any well-formed id exists)')
    .option('--rate-limit <perSecond>', 'answer 429 + Retry-After above this many requests per second', nonNegativeInt)
    .option('--latency-ms <ms>', 'delay every answer', nonNegativeInt, 0)
    .option('--fault-rate <p>', 'probability of 500 "Internal Server Error."', probability, 0)
    .option('--drop-rate <p>', 'probability of dropping the connection', probability, 0)
    .option('--import-disabled', 'POST answers 403 (import disabled on the console)', false)
    .action(async (flags: SimulatorFlags) => {
      const tenants = (flags.tenant.length > 0 ? flags.tenant : ['DEMO']).map((code) => ({ code, importDisabled: flags.importDisabled }));
      const options: SimulatorOptions = {
        port: flags.port,
        host: flags.host,
        tenants,
        apiKeys: [{ key: flags.apiKey, tenants: '*' }],
        faults: {
          rateLimitPerSecond: flags.rateLimit && flags.rateLimit > 0 ? flags.rateLimit : null,
          latencyMs: flags.latencyMs,
          faultRate: flags.faultRate,
          dropRate: flags.dropRate,
        },
        ...(flags.users ? { users: flags.users.split(',').map((id) => id.trim()).filter(Boolean) } : {}),
      };
      const simulator = await startSimulator(options);
      writeLine(io.stdout, `STA simulator listening on ${simulator.url} (tenants: ${tenants.map((t) => t.code).join(', ')}; header apikey: ${flags.apiKey === 'sim-key' ? 'sim-key' : '(as given)'})`);
      writeLine(io.stdout, `  STA_BASE_URL=${simulator.url}  — stats: ${simulator.url}/_sim/stats`);
      await new Promise<void>((resolve) => {
        const remove = io.onSignal(() => {
          remove();
          resolve();
        });
      });
      await simulator.close();
      setExit(EXIT.ok);
    });
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return Number(value);
}

function probability(value: string): number {
  const number = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || number < 0 || number > 1) throw new InvalidArgumentError('expected a probability from 0 to 1');
  return number;
}
