import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { STA_MESSAGES } from '../sta/documented-messages.js';
import { handleControlRequest, type ControlContext } from './control-routes.js';
import { parseFaultsPatch } from './faults-validation.js';
import { FaultController } from './faults.js';
import { handleApiRequest, type ApiContext } from './handlers.js';
import { InjectionQueue } from './injections.js';
import { isApiPath, matchApiRoute, splitUrl } from './router.js';
import { plainError, staError, writeResponse, type SimResponse } from './sim-response.js';
import { resolveConfig } from './simulator-config.js';
import type { RunningSimulator, SimulatorFaults, SimulatorOptions } from './simulator-options.js';
import { StatsCounter } from './stats.js';
import { SimulatorStore, toSimAuthenticator } from './store.js';

/** Largest request body read; a registration is a few KiB, so 1 MiB leaves room for odd vectors. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts the STA simulator: an in-memory implementation of the authenticator management API on
 * `node:http`, plus `/_sim` control endpoints. Rejects when the port cannot be bound; throws
 * TypeError / RangeError on invalid options (user ids, faults).
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const config = resolveConfig(options);
  const now = options.now ?? (() => new Date());
  const store = new SimulatorStore(config.tenants.keys());
  const faults = new FaultController(validFaults(options.faults ?? {}), options.random ?? Math.random, () => now().getTime());
  const stats = new StatsCounter();
  const injections = new InjectionQueue();
  const apiContext: ApiContext = { config, store, injections, now };
  const controlContext: ControlContext = { config, store, faults, stats, injections, now };
  const closing = new AbortController();
  // Every request delayed by latencyMs waits on this signal: hundreds at once are normal here.
  setMaxListeners(0, closing.signal);
  const sockets = new Set<Socket>();
  const host = options.host ?? '127.0.0.1';
  let port = 0;
  const hostPort = (): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      // A client that goes away mid-body ends here; anything else is a simulator bug worth a 500.
      if (closing.signal.aborted || req.destroyed) return;
      const message = error instanceof Error ? error.message : String(error);
      writeResponse(res, plainError(500, `simulator error: ${message}`));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const split = splitUrl(req.url ?? '/');
    if (split === null) {
      writeResponse(res, plainError(400, 'Bad Request'));
      return;
    }
    const { segments, query } = split;
    if (segments[0] === '' && segments[1] === '_sim') {
      const body = await readBody(req);
      writeResponse(res, body === null ? tooLarge() : handleControlRequest(controlContext, { method, segments, headers: req.headers, body }));
      return;
    }
    if (!isApiPath(segments)) {
      stats.record(404, undefined);
      writeResponse(res, plainError(404, 'Not Found'));
      return;
    }

    // Faults sit in front of everything else under /api, authentication included, as a gateway /
    // load balancer would: a 401 can be delayed, rate limited, failed or dropped like any answer.
    const match = matchApiRoute(method, segments);
    const operation = match.kind === 'api' ? match.operation : undefined;
    const drop = faults.drawDrop();
    if (drop === 'before') {
      stats.record('dropped', operation);
      req.socket.destroy();
      return;
    }
    if (!(await waitLatency(faults.current.latencyMs))) return;

    let response: SimResponse;
    const gate = faults.gate();
    if (gate.kind === 'rate-limited') {
      response = plainError(429, 'Too Many Requests', { 'retry-after': String(gate.retryAfterSeconds) });
    } else if (gate.kind === 'fault') {
      response = staError(500, STA_MESSAGES.internalServerError);
    } else if (match.kind === 'not-found') {
      response = plainError(404, 'Not Found');
    } else if (match.kind === 'method-not-allowed') {
      response = plainError(405, 'Method Not Allowed', { allow: match.allow });
    } else {
      const body = await readBody(req);
      const origin = `http://${req.headers.host ?? hostPort()}`;
      response = body === null ? tooLarge() : handleApiRequest(apiContext, { route: match, query, headers: req.headers, body, origin });
    }

    if (drop === 'after') {
      // The request was processed (a POST is stored); the client never learns it.
      stats.record('dropped', operation);
      req.socket.destroy();
      return;
    }
    stats.record(response.status, operation);
    writeResponse(res, response);
  }

  /** Waits at least `latencyMs` (timers may fire a little early); false when the simulator closed meanwhile. */
  async function waitLatency(latencyMs: number): Promise<boolean> {
    if (latencyMs <= 0) return true;
    const until = performance.now() + latencyMs;
    try {
      for (let remainingMs = latencyMs; remainingMs > 0; remainingMs = until - performance.now()) {
        await sleep(Math.ceil(remainingMs), undefined, { signal: closing.signal });
      }
      return true;
    } catch {
      return false;
    }
  }

  await listen(server, options.port ?? 0, host);
  port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${hostPort()}`,
    port,
    setFaults(patch: Partial<SimulatorFaults>): void {
      faults.update(validFaults(patch));
    },
    stats: () => stats.snapshot(store.count()),
    authenticators: (tenantCode: string) => store.all(tenantCode).map(toSimAuthenticator),
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        // server.close() only stops accepting; idle keep-alive and in-flight sockets must go too.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

function validFaults(patch: Partial<SimulatorFaults>): Partial<SimulatorFaults> {
  const parsed = parseFaultsPatch(patch);
  if (!parsed.ok) throw new RangeError(`invalid simulator faults: ${parsed.reason}`);
  return parsed.value;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function tooLarge(): SimResponse {
  return plainError(413, 'Payload Too Large');
}

/** The whole body, or null when it exceeds MAX_BODY_BYTES (the rest is drained, not kept). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  // No Content-Length and no Transfer-Encoding: HTTP/1.1 says there is no body; skip the wait.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) overflow = true;
      else chunks.push(chunk);
    });
    req.once('end', () => {
      resolve(overflow ? null : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}
