import { afterEach, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair, makeRegistration } from '../../../fixtures/software-authenticator.js';
import { Secret } from '../../../src/config/secret.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import type { CreateAuthenticatorRequest, UserRef } from '../../../src/sta/types.js';
import { base64UserId, simRequest } from '../../helpers/sim-http.js';
import { Cleanup, makeClient, staErrorOf } from './harness.js';

const FIXED_NOW = new Date('2025-03-01T12:00:00.000Z');
const ALICE = base64UserId('alice');
const OWNER = base64UserId('key-owner');
const USER: UserRef = { tenantCode: 'DEMO', userId: ALICE };
const keyPair = generateCredentialKeyPair();

const cleanup = new Cleanup();
afterEach(() => cleanup.closeAll());

/** Tenants for every documented refusal; users listed so unknown ones answer 404. */
async function simulator(overrides: SimulatorOptions = {}): Promise<RunningSimulator> {
  return cleanup.add(
    await startSimulator({
      tenants: [{ code: 'DEMO' }, { code: 'OFF', importDisabled: true }, { code: 'NOPLAN', planIncludesImport: false }, { code: 'OTHER' }],
      apiKeys: [
        { key: 'sim-key', tenants: '*', ownerUserId: OWNER },
        { key: 'other-only', tenants: ['OTHER'] },
      ],
      users: [ALICE, OWNER],
      // A clock that stands still: the rate-limit window never slides during a test.
      now: () => FIXED_NOW,
      ...overrides,
    }),
  );
}

function newRequest(): CreateAuthenticatorRequest {
  const registration = makeRegistration({ keyPair });
  return {
    type: 'FIDO',
    metadata: { attestation: { clientDataJson: registration.clientDataJson, attestationObject: registration.attestationObject } },
  };
}

describe('StaClient errors from real HTTP answers', () => {
  it('classifies 401 for a wrong key as permanent invalid-credentials', async () => {
    const sim = await simulator();
    const { client, events } = makeClient(cleanup, sim.url, { apiKey: new Secret('not-a-key') });
    const error = await staErrorOf(client.listAuthenticators(USER));
    expect(error).toMatchObject({
      operation: 'list',
      status: 401,
      code: 'STA_UNAUTHORIZED',
      kind: 'permanent',
      reason: 'invalid-credentials',
      staMessage: STA_MESSAGES.invalidCredentials,
      retryAfterMs: null,
      requestMayHaveReachedSta: true,
    });
    expect(error.message).toBe(`STA list failed: HTTP 401 ${STA_MESSAGES.invalidCredentials}`);
    expect(events.map((event) => [event.status, event.errorCode])).toEqual([[401, 'STA_UNAUTHORIZED']]);
  });

  it('classifies 401 for a key without access to the tenant as no-tenant-permission', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url, { apiKey: new Secret('other-only') });
    expect(await staErrorOf(client.listAuthenticators(USER))).toMatchObject({ status: 401, kind: 'permanent', reason: 'no-tenant-permission' });
  });

  it('sends an empty key as an empty header, which STA reports as no API key', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url, { apiKey: new Secret('') });
    expect(await staErrorOf(client.listAuthenticators(USER))).toMatchObject({ status: 401, kind: 'permanent', reason: 'no-api-key' });
  });

  it('classifies 403 import-disabled and plan-excludes-import as permanent', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    expect(await staErrorOf(client.createAuthenticator({ tenantCode: 'OFF', userId: ALICE }, newRequest()))).toMatchObject({
      status: 403,
      code: 'STA_FORBIDDEN',
      kind: 'permanent',
      reason: 'import-disabled',
      staMessage: STA_MESSAGES.importDisabled,
    });
    expect(await staErrorOf(client.createAuthenticator({ tenantCode: 'NOPLAN', userId: ALICE }, newRequest()))).toMatchObject({
      status: 403,
      kind: 'permanent',
      reason: 'plan-excludes-import',
    });
    expect(sim.stats().authenticators).toBe(0);
  });

  it("classifies 403 for deleting the key owner's imported authenticator as delete-own-imported", async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const owner: UserRef = { tenantCode: 'DEMO', userId: OWNER };
    const created = await client.createAuthenticator(owner, newRequest());
    const id = created.authenticator?.id ?? '';
    expect(await staErrorOf(client.deleteAuthenticator(owner, id))).toMatchObject({ status: 403, kind: 'permanent', reason: 'delete-own-imported' });
  });

  it('classifies 404 for an unknown user, tenant and authenticator with their reasons', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const stranger = base64UserId('stranger');

    expect(await staErrorOf(client.listAuthenticators({ tenantCode: 'DEMO', userId: stranger }))).toMatchObject({
      status: 404,
      code: 'STA_NOT_FOUND',
      kind: 'permanent',
      reason: 'user-not-found',
      staMessage: staMessage.userNotFound('base64', stranger),
    });
    expect(await staErrorOf(client.updateAuthenticator({ tenantCode: 'DEMO', userId: stranger }, 'AAAA', {}))).toMatchObject({
      status: 404,
      reason: 'user-not-found',
      staMessage: staMessage.userNotFoundThe('base64', stranger),
    });
    expect(await staErrorOf(client.deleteAuthenticator({ tenantCode: 'DEMO', userId: stranger }, 'AAAA'))).toMatchObject({
      status: 404,
      reason: 'user-not-found',
      staMessage: staMessage.userUserIdNotFound(stranger),
    });
    expect(await staErrorOf(client.createAuthenticator({ tenantCode: 'NOPE', userId: ALICE }, newRequest()))).toMatchObject({
      status: 404,
      kind: 'permanent',
      reason: 'tenant-not-found',
      staMessage: staMessage.tenantNotFound('NOPE'),
    });
    expect(await staErrorOf(client.getAuthenticator(USER, 'bm8tc3VjaC1rZXk'))).toMatchObject({
      status: 404,
      kind: 'permanent',
      reason: 'authenticator-not-found',
      staMessage: staMessage.authenticatorNotFound('bm8tc3VjaC1rZXk'),
    });
  });

  it('classifies 400s as permanent: a validation problem body, a range error, a non-base64url id', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const validation = await staErrorOf(client.listAuthenticators(USER, { pageIndex: Number.NaN }));
    expect(validation).toMatchObject({ status: 400, code: 'STA_BAD_REQUEST', kind: 'permanent', reason: 'validation' });
    expect(validation.staMessage).toBe(`${STA_MESSAGES.validationTitle} pageIndex: ${staMessage.valueNotValid('NaN')}`);

    expect(await staErrorOf(client.listAuthenticators(USER, { pageSize: 21 }))).toMatchObject({
      status: 400,
      kind: 'permanent',
      reason: null,
      staMessage: STA_MESSAGES.pageSizeRange,
    });
    expect(await staErrorOf(client.getAuthenticator(USER, 'not+base64url'))).toMatchObject({
      status: 400,
      kind: 'permanent',
      staMessage: STA_MESSAGES.authenticatorIdNotBase64Url,
    });
  });

  it('classifies 409 on a second import of the same credential as a conflict', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const request = newRequest();
    await client.createAuthenticator(USER, request);
    const error = await staErrorOf(client.createAuthenticator({ tenantCode: 'DEMO', userId: OWNER }, request));
    expect(error).toMatchObject({ status: 409, code: 'STA_CONFLICT', kind: 'conflict', reason: 'already-in-use', staMessage: STA_MESSAGES.alreadyInUse });
    expect(sim.stats().authenticators).toBe(1);
  });

  it("classifies 429 as rate-limited with the simulator's Retry-After in milliseconds", async () => {
    const sim = await simulator({ faults: { rateLimitPerSecond: 1 } });
    const { client, events } = makeClient(cleanup, sim.url);
    await client.listAuthenticators(USER);
    const error = await staErrorOf(client.listAuthenticators(USER));
    expect(error).toMatchObject({ status: 429, code: 'STA_RATE_LIMITED', kind: 'rate-limited', staMessage: 'Too Many Requests' });
    expect(error.retryAfterMs).toBe(1_000);
    expect(events.map((event) => event.errorCode)).toEqual([null, 'STA_RATE_LIMITED']);
  });

  it('classifies a 500 fault as retryable without touching state', async () => {
    const sim = await simulator({ faults: { faultRate: 1 } });
    const { client } = makeClient(cleanup, sim.url);
    const error = await staErrorOf(client.createAuthenticator(USER, newRequest()));
    expect(error).toMatchObject({
      status: 500,
      code: 'STA_SERVER_ERROR',
      kind: 'retryable',
      staMessage: STA_MESSAGES.internalServerError,
      retryAfterMs: null,
      reason: null,
    });
    expect(sim.stats().authenticators).toBe(0);
  });

  it('classifies an injected 500 "Authenticator Service Exception." as retryable', async () => {
    const sim = await simulator();
    const injected = await simRequest(sim.url, '/_sim/inject', {
      method: 'POST',
      apiKey: null,
      body: { operation: 'get', status: 500, message: STA_MESSAGES.serviceException },
    });
    expect(injected.status).toBe(200);
    const { client } = makeClient(cleanup, sim.url);
    expect(await staErrorOf(client.getAuthenticator(USER, 'AAAA'))).toMatchObject({
      status: 500,
      kind: 'retryable',
      staMessage: STA_MESSAGES.serviceException,
    });
  });
});
