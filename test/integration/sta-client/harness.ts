/**
 * Shared pieces of the STA client tests: clients that are closed after each test, a tiny scripted
 * `node:http` server for answers the simulator cannot give, and a helper that captures a StaError.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { Secret } from '../../../src/config/secret.js';
import { StaClient, type StaCallEvent, type StaClientOptions } from '../../../src/sta/sta-client.js';
import { StaError } from '../../../src/sta/sta-error.js';

/** What the tests close in afterEach. */
export interface Closable {
  close(): Promise<void>;
}

/** Collects things to close; `closeAll` closes them in reverse order (clients before servers). */
export class Cleanup {
  readonly #items: Closable[] = [];

  add<T extends Closable>(item: T): T {
    this.#items.push(item);
    return item;
  }

  async closeAll(): Promise<void> {
    for (const item of this.#items.splice(0).reverse()) await item.close();
  }
}

/** A client and the events it reported. */
export interface TestClient {
  readonly client: StaClient;
  readonly events: StaCallEvent[];
}

/** A client for `url` with the simulator's default key; `overrides` replace any option. */
export function makeClient(cleanup: Cleanup, url: string, overrides: Partial<StaClientOptions> = {}): TestClient {
  const events: StaCallEvent[] = [];
  const client = new StaClient({
    baseUrl: new URL(url),
    apiKey: new Secret('sim-key'),
    objectIdFormat: 'base64',
    timeoutMs: 5_000,
    onCall: (event) => events.push(event),
    ...overrides,
  });
  cleanup.add(client);
  return { client, events };
}

/** The StaError a promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function staErrorOf(promise: Promise<unknown>): Promise<StaError> {
  try {
    await promise;
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(StaError);
    return error as StaError;
  }
  throw new Error('expected the call to fail with a StaError');
}

/** One request as the scripted server received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A real HTTP server whose answers the test writes. */
export interface ScriptedServer extends Closable {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** TCP connections accepted since start. */
  connections(): number;
  /** Connections still open. */
  openSockets(): number;
}

/** Starts a scripted server on 127.0.0.1, port 0. The handler sees the request with its body read. */
export async function startScriptedServer(
  handler: (request: RecordedRequest, res: ServerResponse) => void,
): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    openSockets: () => sockets.size,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        for (const socket of sockets) socket.destroy();
      })),
  };
}

/** Writes a response with an exact body (no JSON encoding). */
export function answer(res: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = await startScriptedServer(() => undefined);
  await server.close();
  return server.port;
}
