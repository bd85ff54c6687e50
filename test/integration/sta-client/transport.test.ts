import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair, makeRegistration } from '../../../fixtures/software-authenticator.js';
import { Secret } from '../../../src/config/secret.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import type { CreateAuthenticatorRequest, UserRef } from '../../../src/sta/types.js';
import { base64UserId } from '../../helpers/sim-http.js';
import { answer, Cleanup, closedPort, makeClient, staErrorOf, startScriptedServer, waitFor } from './harness.js';

const USER: UserRef = { tenantCode: 'DEMO', userId: base64UserId('transport-user') };
const AUTHENTICATOR = {
  id: 'AbC-_d',
  type: 'FIDO',
  state: 'pending',
  lastUsedAuthnDateTime: null,
  lastSuccessAuthnDateTime: null,
  createdDateTime: '2025-03-01T12:00:00.000Z',
  metadata: { aaguid: '00000000-0000-0000-0000-000000000000', friendlyName: 'k', rpId: 'rp', signatureCounter: 0, coseAlgoId: -7, provenance: 'imported' },
};
const keyPair = generateCredentialKeyPair();

const cleanup = new Cleanup();
afterEach(() => cleanup.closeAll());

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return cleanup.add(await startSimulator(options));
}

function newRequest(): CreateAuthenticatorRequest {
  const registration = makeRegistration({ keyPair });
  return {
    type: 'FIDO',
    metadata: { attestation: { clientDataJson: registration.clientDataJson, attestationObject: registration.attestationObject } },
  };
}

describe('StaClient transport failures', () => {
  it('reports a connection dropped before processing as retryable STA_NETWORK that may have reached STA, without a hidden retry', async () => {
    const sim = await simulator({ faults: { dropRate: 1, dropMode: 'before' } });
    const { client, events } = makeClient(cleanup, sim.url);
    const error = await staErrorOf(client.createAuthenticator(USER, newRequest()));
    // undici only sees "other side closed" after the request was written: it cannot tell
    // 'before' from 'after', so the client must assume STA may have stored the POST.
    expect(error).toMatchObject({ code: 'STA_NETWORK', kind: 'retryable', status: null, requestMayHaveReachedSta: true, retryAfterMs: null });
    expect(sim.stats().requests.byStatus).toEqual({ dropped: 1 });
    expect(sim.stats().authenticators).toBe(0);
    expect(events.map((event) => [event.status, event.errorCode])).toEqual([[null, 'STA_NETWORK']]);
  });

  it('reports a connection dropped after processing as retryable STA_NETWORK — and STA did store the POST', async () => {
    const sim = await simulator({ faults: { dropRate: 1, dropMode: 'after' } });
    const { client } = makeClient(cleanup, sim.url);
    const error = await staErrorOf(client.createAuthenticator(USER, newRequest()));
    expect(error).toMatchObject({ code: 'STA_NETWORK', kind: 'retryable', status: null, requestMayHaveReachedSta: true });
    expect(sim.stats().requests.byStatus).toEqual({ dropped: 1 });
    expect(sim.stats().authenticators).toBe(1);
  });

  it('gives up after timeoutMs with a retryable STA_TIMEOUT, long before the slow answer', async () => {
    const sim = await simulator({ faults: { latencyMs: 500 } });
    const { client, events } = makeClient(cleanup, sim.url, { timeoutMs: 100 });
    const started = performance.now();
    const error = await staErrorOf(client.listAuthenticators(USER));
    const elapsedMs = performance.now() - started;
    expect(error).toMatchObject({ code: 'STA_TIMEOUT', kind: 'retryable', status: null, requestMayHaveReachedSta: true, staMessage: 'no answer within 100 ms' });
    expect(elapsedMs).toBeGreaterThanOrEqual(95);
    expect(elapsedMs).toBeLessThan(450);
    expect(events.map((event) => event.errorCode)).toEqual(['STA_TIMEOUT']);
  });

  it('counts the body in the timeout: a response that stalls mid-body ends in STA_TIMEOUT', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"id":');
      }),
    );
    const { client } = makeClient(cleanup, server.url, { timeoutMs: 150 });
    expect(await staErrorOf(client.getAuthenticator(USER, 'AbC'))).toMatchObject({ code: 'STA_TIMEOUT', kind: 'retryable' });
  });

  it('reports a refused connection as STA_NETWORK that certainly never reached STA', async () => {
    const port = await closedPort();
    const { client } = makeClient(cleanup, `http://127.0.0.1:${port}`);
    const error = await staErrorOf(client.createAuthenticator(USER, newRequest()));
    expect(error).toMatchObject({ code: 'STA_NETWORK', kind: 'retryable', status: null, requestMayHaveReachedSta: false, staMessage: 'ECONNREFUSED' });
  });

  it('reports an API key a header cannot carry as permanent, never sent', async () => {
    const server = cleanup.add(await startScriptedServer((_request, res) => {
      answer(res, 200, '{}');
    }));
    for (const key of ['line\r\nbreak', 'non-latin-€']) {
      const { client } = makeClient(cleanup, server.url, { apiKey: new Secret(key) });
      const error = await staErrorOf(client.listAuthenticators(USER));
      expect(error).toMatchObject({ code: 'STA_BAD_REQUEST', kind: 'permanent', status: null, requestMayHaveReachedSta: false, staMessage: 'invalid apikey header' });
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('StaClient answers the simulator cannot give (scripted server)', () => {
  it('reads Retry-After as an HTTP date against the injected clock', async () => {
    const nowMs = Date.parse('2025-06-01T12:00:00.000Z');
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 429, '{"status":429,"message":"Too Many Requests"}', { 'retry-after': 'Sun, 01 Jun 2025 12:00:07 GMT' });
      }),
    );
    const { client } = makeClient(cleanup, server.url, { now: () => nowMs });
    expect(await staErrorOf(client.listAuthenticators(USER))).toMatchObject({ status: 429, kind: 'rate-limited', retryAfterMs: 7_000 });
  });

  it('reads an HTTP-date Retry-After against the real clock by default', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 429, '', { 'retry-after': new Date(Date.now() + 60_000).toUTCString() });
      }),
    );
    const { client } = makeClient(cleanup, server.url);
    const error = await staErrorOf(client.listAuthenticators(USER));
    // toUTCString drops the milliseconds; the exchange itself takes a little time.
    expect(error.retryAfterMs).toBeGreaterThan(50_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('keeps Retry-After on a 503 (retryable) and ignores it on a 500', async () => {
    let status = 503;
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, status, 'Service Unavailable', { 'content-type': 'text/plain', 'retry-after': '7' });
      }),
    );
    const { client } = makeClient(cleanup, server.url);
    expect(await staErrorOf(client.listAuthenticators(USER))).toMatchObject({
      status: 503,
      code: 'STA_SERVER_ERROR',
      kind: 'retryable',
      retryAfterMs: 7_000,
      staMessage: 'Service Unavailable',
    });
    status = 500;
    expect(await staErrorOf(client.listAuthenticators(USER))).toMatchObject({ status: 500, kind: 'retryable', retryAfterMs: null });
  });

  it('drops an HTML error page from the message', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', { 'content-type': 'text/html' });
      }),
    );
    const { client } = makeClient(cleanup, server.url);
    const error = await staErrorOf(client.getAuthenticator(USER, 'AbC'));
    expect(error).toMatchObject({ status: 502, kind: 'retryable', staMessage: null });
    expect(error.message).toBe('STA get failed: HTTP 502');
  });

  it('turns a 200 whose body is not JSON into STA_BAD_RESPONSE, reported as such', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 200, '<html>captive portal</html>', { 'content-type': 'text/html' });
      }),
    );
    const { client, events } = makeClient(cleanup, server.url);
    expect(await staErrorOf(client.getAuthenticator(USER, 'AbC'))).toMatchObject({ code: 'STA_BAD_RESPONSE', kind: 'retryable', status: 200 });
    expect(await staErrorOf(client.listAuthenticators(USER))).toMatchObject({ code: 'STA_BAD_RESPONSE', kind: 'retryable', status: 200 });
    expect(await staErrorOf(client.updateAuthenticator(USER, 'AbC', {}))).toMatchObject({ code: 'STA_BAD_RESPONSE', status: 200 });
    expect(events.map((event) => [event.operation, event.status, event.errorCode])).toEqual([
      ['get', 200, 'STA_BAD_RESPONSE'],
      ['list', 200, 'STA_BAD_RESPONSE'],
      ['update', 200, 'STA_BAD_RESPONSE'],
    ]);
  });

  it('accepts a 201 create with an empty body as created, with no authenticator', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 201, '');
      }),
    );
    const { client, events } = makeClient(cleanup, server.url);
    expect(await client.createAuthenticator(USER, newRequest())).toEqual({ status: 201, authenticator: null });
    expect(events.map((event) => [event.status, event.errorCode])).toEqual([[201, null]]);
  });

  it('does not take an HTML 200 (a wrong base URL, a proxy login page) for an import', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 200, '<html><body>Sign in</body></html>', { 'content-type': 'text/html' });
      }),
    );
    const { client, events } = makeClient(cleanup, server.url);
    await expect(client.createAuthenticator(USER, newRequest())).rejects.toMatchObject({ code: 'STA_BAD_RESPONSE', kind: 'retryable', status: 200 });
    expect(events.map((event) => [event.status, event.errorCode])).toEqual([[200, 'STA_BAD_RESPONSE']]);
  });

  it('returns the authenticator of a 201 create that has one', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 201, JSON.stringify(AUTHENTICATOR), { 'content-type': 'application/json' });
      }),
    );
    const { client } = makeClient(cleanup, server.url);
    expect(await client.createAuthenticator(USER, newRequest())).toEqual({ status: 201, authenticator: AUTHENTICATOR });
  });

  it('does not follow redirects: a 3xx is a permanent unexpected status', async () => {
    const elsewhere = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 200, JSON.stringify(AUTHENTICATOR));
      }),
    );
    const server = cleanup.add(
      await startScriptedServer((request, res) => {
        answer(res, 307, '', { location: `${elsewhere.url}${request.url}` });
      }),
    );
    const { client } = makeClient(cleanup, server.url);
    expect(await staErrorOf(client.getAuthenticator(USER, 'AbC'))).toMatchObject({ status: 307, code: 'STA_UNEXPECTED_STATUS', kind: 'permanent' });
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe('StaClient connections', () => {
  it('reuses keep-alive sockets: 50 sequential requests, successes and errors, over very few connections', async () => {
    let count = 0;
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        count += 1;
        if (count % 2 === 0) answer(res, 404, JSON.stringify({ status: 404, message: 'The Authenticator Not Found Exception.' }));
        else answer(res, 200, JSON.stringify(AUTHENTICATOR), { 'content-type': 'application/json' });
      }),
    );
    const { client } = makeClient(cleanup, server.url);
    for (let index = 0; index < 50; index += 1) {
      await client.getAuthenticator(USER, 'AbC').catch((error: unknown) => error);
    }
    expect(server.requests).toHaveLength(50);
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('close() ends every pooled socket promptly and leaves no open handle', async () => {
    const baseline = tcpHandles();
    const server = await startScriptedServer((_request, res) => {
      answer(res, 200, JSON.stringify(AUTHENTICATOR));
    });
    const { client } = makeClient(cleanup, server.url);
    await Promise.all(Array.from({ length: 4 }, () => client.getAuthenticator(USER, 'AbC')));
    expect(server.openSockets()).toBeGreaterThanOrEqual(1);

    const started = performance.now();
    await client.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(client.close()).resolves.toBeUndefined();
    // The server sees the client hang up: nobody else closes these sockets.
    await waitFor(() => server.openSockets() === 0, 2_000, 'the client to close its sockets');
    await server.close();
    await waitFor(() => tcpHandles() <= baseline, 2_000, 'TCP handles to be released');
    expect(await staErrorOf(client.getAuthenticator(USER, 'AbC'))).toMatchObject({ code: 'STA_NETWORK' });
  });

  it('close() leaves an injected dispatcher to its owner', async () => {
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 200, JSON.stringify(AUTHENTICATOR));
      }),
    );
    const dispatcher = cleanup.add(new Agent());
    const first = makeClient(cleanup, server.url, { dispatcher }).client;
    await first.getAuthenticator(USER, 'AbC');
    await first.close();
    const second = makeClient(cleanup, server.url, { dispatcher }).client;
    expect((await second.getAuthenticator(USER, 'AbC')).id).toBe('AbC-_d');
  });
});

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'TCPServerWrap').length;
}
