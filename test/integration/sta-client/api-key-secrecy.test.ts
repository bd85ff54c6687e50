import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair, makeRegistration } from '../../../fixtures/software-authenticator.js';
import { Secret } from '../../../src/config/secret.js';
import { startSimulator } from '../../../src/simulator/index.js';
import type { StaCallEvent, StaClientOptions } from '../../../src/sta/sta-client.js';
import type { StaError } from '../../../src/sta/sta-error.js';
import type { CreateAuthenticatorRequest, UserRef } from '../../../src/sta/types.js';
import { base64UserId } from '../../helpers/sim-http.js';
import { answer, Cleanup, closedPort, makeClient, staErrorOf, startScriptedServer } from './harness.js';

const USER: UserRef = { tenantCode: 'DEMO', userId: base64UserId('secret-user') };
const keyPair = generateCredentialKeyPair();

const cleanup = new Cleanup();
afterEach(() => cleanup.closeAll());

/** A key no text in the code base contains by accident. */
function randomKey(): string {
  return `k-${randomBytes(24).toString('base64url')}`;
}

function newRequest(): CreateAuthenticatorRequest {
  const registration = makeRegistration({ keyPair });
  return {
    type: 'FIDO',
    metadata: { attestation: { clientDataJson: registration.clientDataJson, attestationObject: registration.attestationObject } },
  };
}

/** Every way an error or event gets printed: message, String, JSON, util.inspect (cause chain included), stack. */
function renderings(value: StaError | StaCallEvent): string[] {
  const texts = [JSON.stringify(value), inspect(value, { depth: null }), inspect(value, { depth: 6, showHidden: true })];
  if (value instanceof Error) texts.push(value.message, String(value), value.stack ?? '');
  return texts;
}

function expectNoKey(key: string, errors: readonly StaError[], events: readonly StaCallEvent[]): void {
  const leaks = [...errors, ...events].flatMap((value) => renderings(value)).filter((text) => text.includes(key));
  expect(leaks).toEqual([]);
}

describe('the STA API key', () => {
  it('is sent as the apikey header, with the configured Object-Id-Format, on every operation', async () => {
    const key = randomKey();
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 204, '');
      }),
    );
    const base64 = makeClient(cleanup, server.url, { apiKey: new Secret(key) }).client;
    const hex = makeClient(cleanup, server.url, { apiKey: new Secret(key), objectIdFormat: 'hex' }).client;
    await base64.createAuthenticator(USER, newRequest()).catch(() => undefined);
    await base64.listAuthenticators(USER).catch(() => undefined);
    await base64.getAuthenticator(USER, 'AbC').catch(() => undefined);
    await base64.updateAuthenticator(USER, 'AbC', { state: 'active' }).catch(() => undefined);
    await hex.deleteAuthenticator({ tenantCode: 'DEMO', userId: 'abcd' }, 'AbC');

    expect(server.requests.map((request) => [request.method, request.headers['apikey'], request.headers['object-id-format']])).toEqual([
      ['POST', key, 'base64'],
      ['GET', key, 'base64'],
      ['GET', key, 'base64'],
      ['PATCH', key, 'base64'],
      ['DELETE', key, 'hex'],
    ]);
    for (const request of server.requests) {
      expect(request.headers['accept']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/^sta-migrate\//);
      expect(request.headers['content-type']).toBe(request.method === 'POST' || request.method === 'PATCH' ? 'application/json' : undefined);
      // Only in the header: never in the URL or the body.
      expect(request.url.includes(key) || request.body.includes(key)).toBe(false);
    }
  });

  it('appears in no error and no call event, whatever goes wrong against the simulator', async () => {
    const key = randomKey();
    const sim = cleanup.add(await startSimulator({ apiKeys: [{ key, tenants: '*' }], users: [USER.userId] }));
    const options: Partial<StaClientOptions> = { apiKey: new Secret(key) };
    const { client, events } = makeClient(cleanup, sim.url, options);
    const errors: StaError[] = [];
    const fail = async (promise: Promise<unknown>): Promise<void> => {
      errors.push(await staErrorOf(promise));
    };

    const request = newRequest();
    await client.createAuthenticator(USER, request);
    await fail(client.createAuthenticator(USER, request)); // 409
    await fail(client.getAuthenticator(USER, 'bm9uZQ')); // 404 authenticator
    await fail(client.listAuthenticators({ tenantCode: 'DEMO', userId: base64UserId('nobody') })); // 404 user
    await fail(client.listAuthenticators({ tenantCode: 'NOPE', userId: USER.userId })); // 404 tenant
    await fail(client.listAuthenticators(USER, { pageIndex: Number.NaN })); // 400 validation
    sim.setFaults({ faultRate: 1 });
    await fail(client.listAuthenticators(USER)); // 500
    sim.setFaults({ faultRate: 0, rateLimitPerSecond: 1 });
    await client.listAuthenticators(USER).catch(() => undefined);
    await fail(client.listAuthenticators(USER)); // 429
    sim.setFaults({ rateLimitPerSecond: null, dropRate: 1, dropMode: 'before' });
    await fail(client.createAuthenticator(USER, newRequest())); // dropped
    sim.setFaults({ dropMode: 'after' });
    await fail(client.createAuthenticator(USER, newRequest())); // dropped after storing
    sim.setFaults({ dropRate: 0, latencyMs: 300 });
    const slow = makeClient(cleanup, sim.url, { ...options, timeoutMs: 50 });
    await fail(slow.client.listAuthenticators(USER)); // timeout
    const refused = makeClient(cleanup, `http://127.0.0.1:${await closedPort()}`, options);
    await fail(refused.client.listAuthenticators(USER)); // connection refused

    expect(new Set(errors.map((error) => error.code))).toEqual(
      new Set(['STA_CONFLICT', 'STA_NOT_FOUND', 'STA_BAD_REQUEST', 'STA_SERVER_ERROR', 'STA_RATE_LIMITED', 'STA_NETWORK', 'STA_TIMEOUT']),
    );
    expectNoKey(key, errors, [...events, ...slow.events, ...refused.events]);
  });

  it('appears in no error when the key is wrong (401)', async () => {
    const wrongKey = randomKey();
    const sim = cleanup.add(await startSimulator({ apiKeys: [{ key: randomKey(), tenants: '*' }] }));
    const { client, events } = makeClient(cleanup, sim.url, { apiKey: new Secret(wrongKey) });
    const error = await staErrorOf(client.createAuthenticator(USER, newRequest()));
    expect(error).toMatchObject({ status: 401, reason: 'invalid-credentials' });
    expectNoKey(wrongKey, [error], events);
  });

  it('is redacted when a gateway echoes it back in an error or a malformed answer', async () => {
    const key = randomKey();
    let status = 400;
    const server = cleanup.add(
      await startScriptedServer((request, res) => {
        const echoed = `header apikey=${String(request.headers['apikey'])} rejected`;
        if (status === 400) answer(res, 400, JSON.stringify({ status, message: echoed }), { 'content-type': 'application/json' });
        else answer(res, status, echoed, { 'content-type': 'text/plain' });
      }),
    );
    const { client, events } = makeClient(cleanup, server.url, { apiKey: new Secret(key) });
    const errors: StaError[] = [];
    for (const next of [400, 429, 502, 200]) {
      status = next;
      errors.push(await staErrorOf(client.getAuthenticator(USER, 'AbC')));
    }
    expect(errors.map((error) => [error.status, error.code])).toEqual([
      [400, 'STA_BAD_REQUEST'],
      [429, 'STA_RATE_LIMITED'],
      [502, 'STA_SERVER_ERROR'],
      [200, 'STA_BAD_RESPONSE'],
    ]);
    expect(errors[0]?.staMessage).toBe('header apikey=[redacted] rejected');
    expectNoKey(key, errors, events);
  });

  it('appears in no error when it cannot be sent as a header', async () => {
    const secretPart = randomKey();
    const server = cleanup.add(
      await startScriptedServer((_request, res) => {
        answer(res, 200, '{}');
      }),
    );
    const { client, events } = makeClient(cleanup, server.url, { apiKey: new Secret(`bad\r\n${secretPart}`) });
    const error = await staErrorOf(client.listAuthenticators(USER));
    expect(error.code).toBe('STA_BAD_REQUEST');
    expectNoKey(secretPart, [error], events);
  });
});
