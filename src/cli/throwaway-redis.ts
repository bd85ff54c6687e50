import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedis, pingRedis } from '../redis/connection.js';

/** A redis-server started for the demo, without persistence, stopped by `stop`. */
export interface ThrowawayRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on a free port (no RDB, no AOF) and waits until it answers.
 *
 * @returns null when no `redis-server` binary can be started.
 */
export async function startThrowawayRedis(binary = 'redis-server'): Promise<ThrowawayRedis | null> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
  } catch {
    return null;
  }
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => {
      resolve(true);
    });
    child.once('error', () => {
      resolve(false);
    });
  });
  if (!spawned) return null;
  const url = `redis://127.0.0.1:${port}`;
  const probe = createRedis(url);
  probe.on('error', () => undefined);
  let ready = false;
  for (let attempt = 0; attempt < 50 && !ready; attempt += 1) {
    ready = (await pingRedis(probe, url, 500)) === null;
    if (!ready) await sleep(100);
  }
  probe.disconnect();
  if (!ready) {
    child.kill('SIGKILL');
    return null;
  }
  return {
    url,
    stop: async () => {
      const running = () => child.exitCode === null && child.signalCode === null;
      if (!running()) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (running()) child.kill('SIGKILL');
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
