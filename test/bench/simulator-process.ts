/**
 * The STA simulator in a process of its own, for benchmarks: a simulator sharing the event loop of
 * the workers it serves would slow both and blur every throughput figure.
 *
 *   node --import tsx test/bench/simulator-process.ts ['<SimulatorOptions as JSON>']
 *
 * Options come from the first argument or from the SIM_OPTIONS variable (JSON; functions such as
 * `random` cannot be passed). Listens on a free port unless `port` is given, prints one line
 * `SIM_URL <url>` on stdout, and runs until SIGTERM / SIGINT or until its stdin ends (the parent
 * died), then closes the server and exits 0. A bad option exits 2.
 */
import { setMaxListeners } from 'node:events';
import { startSimulator, type SimulatorOptions } from '../../src/simulator/index.js';

/** The line prefix the parent waits for (bench-kit.ts spawnSimulator reads it). */
const SIM_URL_MARK = 'SIM_URL ';

async function main(): Promise<number> {
  const text = process.argv[2] ?? process.env['SIM_OPTIONS'] ?? '{}';
  let options: SimulatorOptions;
  try {
    options = JSON.parse(text) as SimulatorOptions;
  } catch (error: unknown) {
    console.error(`simulator-process: options are not JSON: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  // With latency on, every request waiting out its delay listens on the simulator's one close
  // signal: dozens at once are expected here, not a leak (Node warns past 10).
  setMaxListeners(0);
  const simulator = await startSimulator({ port: 0, ...options });
  process.stdout.write(`${SIM_URL_MARK}${simulator.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.stdin.resume();
  });
  await simulator.close();
  process.stdin.destroy();
  return 0;
}

process.exitCode = await main();
