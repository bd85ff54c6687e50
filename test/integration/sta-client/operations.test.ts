import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { generateCredentialKeyPair, makeRegistration } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import type { CreateResult } from '../../../src/sta/sta-client.js';
import type { Authenticator, AuthenticatorPage, CreateAuthenticatorRequest, UpdateAuthenticatorRequest, UserRef } from '../../../src/sta/types.js';
import { base64UserId, hexOf, simRequest } from '../../helpers/sim-http.js';
import { DOCUMENT_SAMPLE_CREDENTIAL_ID, DOCUMENT_SAMPLE_PATCH_BODY, DOCUMENT_SAMPLE_POST_BODY } from '../simulator/document-samples.js';
import { answer, Cleanup, makeClient, staErrorOf, startScriptedServer } from './harness.js';

const FIXED_NOW = new Date('2025-03-01T12:00:00.000Z');
const USER: UserRef = { tenantCode: 'DEMO', userId: base64UserId('client-user') };
/** Bytes fb ef be ff: base64 "++++/w==" — every character that needs percent-encoding in a path. */
const ODD_USER_ID = Buffer.from([0xfb, 0xef, 0xbe, 0xff]).toString('base64');
const keyPair = generateCredentialKeyPair();

const cleanup = new Cleanup();
afterEach(() => cleanup.closeAll());

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return cleanup.add(await startSimulator({ now: () => FIXED_NOW, ...options }));
}

function requestFor(registration: { clientDataJson: string; attestationObject: string }, friendlyName?: string): CreateAuthenticatorRequest {
  return {
    type: 'FIDO',
    metadata: {
      attestation: { clientDataJson: registration.clientDataJson, attestationObject: registration.attestationObject },
      ...(friendlyName === undefined ? {} : { friendlyName }),
    },
  };
}

/** A credential id whose base64url starts with "-__-": both characters base64 does not use. */
function oddCredentialId(): Buffer {
  return Buffer.concat([Buffer.from([0xfb, 0xff, 0xfe]), randomBytes(29)]);
}

async function activate(sim: RunningSimulator, user: UserRef, authenticatorId: string): Promise<void> {
  const path = `/_sim/tenants/${user.tenantCode}/users/${encodeURIComponent(user.userId)}/authenticators/${authenticatorId}/activate`;
  const reply = await simRequest(sim.url, path, { method: 'POST', apiKey: null });
  expect(reply.status).toBe(200);
}

describe('StaClient operations against the simulator', () => {
  it("imports the API document's sample request and answers 200 with the credential id as id", async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const sample = JSON.parse(DOCUMENT_SAMPLE_POST_BODY) as CreateAuthenticatorRequest;

    const created = await client.createAuthenticator(USER, sample);

    expectTypeOf(created).toEqualTypeOf<CreateResult>();
    expect(created).toEqual({
      status: 200,
      authenticator: {
        id: DOCUMENT_SAMPLE_CREDENTIAL_ID,
        type: 'FIDO',
        state: 'pending',
        lastUsedAuthnDateTime: null,
        lastSuccessAuthnDateTime: null,
        createdDateTime: FIXED_NOW.toISOString(),
        metadata: {
          aaguid: 'c3c512ec-8e7f-11ea-a915-cf12cba00426',
          friendlyName: 'My_TouchPass_B',
          rpId: 'my.rp.com',
          signatureCounter: 1,
          coseAlgoId: -7,
          provenance: 'imported',
        },
      },
    });
    expect(sim.authenticators('DEMO')).toEqual([{ ...created.authenticator, userId: USER.userId }]);
  });

  it('gets, lists, updates and deletes with typed results, reporting every exchange', async () => {
    const sim = await simulator();
    const { client, events } = makeClient(cleanup, sim.url);
    const registration = makeRegistration({ keyPair });
    const created = await client.createAuthenticator(USER, requestFor(registration, 'Laptop key'));
    expect(created.status).toBe(200);
    const id = registration.credentialId;
    expect(created.authenticator).toMatchObject({ id, state: 'pending', metadata: { friendlyName: 'Laptop key', provenance: 'imported' } });

    const fetched = await client.getAuthenticator(USER, id);
    expectTypeOf(fetched).toEqualTypeOf<Authenticator>();
    expect(fetched).toEqual(created.authenticator);

    const page = await client.listAuthenticators(USER);
    expectTypeOf(page).toEqualTypeOf<AuthenticatorPage>();
    expect(page.itemType).toBe('Authenticator');
    expect(page.page).toEqual({ totalItems: 1, pageIndex: 0, pageSize: 10, totalPages: 1, items: [fetched] });
    expect(page.links.next).toBeNull();

    // A pending authenticator cannot be changed until the user completes activation.
    const refused = await staErrorOf(client.updateAuthenticator(USER, id, { state: 'suspended' }));
    expect(refused).toMatchObject({ status: 400, kind: 'permanent', reason: 'operation-not-allowed', staMessage: STA_MESSAGES.operationNotAllowed });

    await activate(sim, USER, id);
    const suspended = await client.updateAuthenticator(USER, id, { state: 'suspended', metadata: { friendlyName: 'Old laptop' } });
    expectTypeOf(suspended).toEqualTypeOf<Authenticator>();
    expect(suspended).toMatchObject({ id, state: 'suspended', metadata: { friendlyName: 'Old laptop' } });
    const samplePatch = JSON.parse(DOCUMENT_SAMPLE_PATCH_BODY) as UpdateAuthenticatorRequest;
    expect(await client.updateAuthenticator(USER, id, samplePatch)).toMatchObject({ id, state: 'active', metadata: { friendlyName: 'My_TouchPass_B' } });

    await expect(client.deleteAuthenticator(USER, id)).resolves.toBeUndefined();
    expect(sim.authenticators('DEMO')).toEqual([]);
    const gone = await staErrorOf(client.getAuthenticator(USER, id));
    expect(gone).toMatchObject({ status: 404, code: 'STA_NOT_FOUND', reason: 'authenticator-not-found', staMessage: staMessage.authenticatorNotFound(id) });

    expect(events.map((event) => [event.operation, event.method, event.status, event.errorCode])).toEqual([
      ['create', 'POST', 200, null],
      ['get', 'GET', 200, null],
      ['list', 'GET', 200, null],
      ['update', 'PATCH', 400, 'STA_BAD_REQUEST'],
      ['update', 'PATCH', 200, null],
      ['update', 'PATCH', 200, null],
      ['delete', 'DELETE', 204, null],
      ['get', 'GET', 404, 'STA_NOT_FOUND'],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ tenantCode: 'DEMO', userId: USER.userId });
      expect(event.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(events.filter((event) => event.operation !== 'create' && event.operation !== 'list').every((event) => event.authenticatorId === id)).toBe(true);
  });

  it('lists one page by index and size', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const registration = makeRegistration({ keyPair });
      await client.createAuthenticator(USER, requestFor(registration));
      ids.push(registration.credentialId);
    }
    const page = await client.listAuthenticators(USER, { pageIndex: 1, pageSize: 2 });
    expect(page.page).toMatchObject({ totalItems: 5, pageIndex: 1, pageSize: 2, totalPages: 3 });
    expect(page.page.items.map((item) => item.id)).toEqual(ids.slice(2, 4));
  });
});

describe('StaClient URL encoding', () => {
  it('round-trips a userId with + / = and an authenticator id with - and _', async () => {
    const sim = await simulator();
    const { client } = makeClient(cleanup, sim.url);
    const user: UserRef = { tenantCode: 'DEMO', userId: ODD_USER_ID };
    const registration = makeRegistration({ keyPair, credentialId: oddCredentialId() });
    const id = registration.credentialId;
    expect(ODD_USER_ID).toMatch(/\+.*\/.*=/);
    expect(id).toMatch(/^-__-/);

    expect((await client.createAuthenticator(user, requestFor(registration))).authenticator?.id).toBe(id);
    expect(sim.authenticators('DEMO').map((stored) => [stored.userId, stored.id])).toEqual([[ODD_USER_ID, id]]);
    expect((await client.getAuthenticator(user, id)).id).toBe(id);
    expect((await client.listAuthenticators(user)).page.items.map((item) => item.id)).toEqual([id]);
    await activate(sim, user, id);
    expect((await client.updateAuthenticator(user, id, { state: 'suspended' })).state).toBe('suspended');
    await client.deleteAuthenticator(user, id);
    expect(sim.authenticators('DEMO')).toEqual([]);
  });

  it('percent-encodes ids on the wire and keeps a base URL path prefix', async () => {
    const server = cleanup.add(await startScriptedServer((_request, res) => {
      answer(res, 204, '');
    }));
    const { client } = makeClient(cleanup, `${server.url}/gateway/sta/`);
    await client.deleteAuthenticator({ tenantCode: 'DEMO', userId: ODD_USER_ID }, '-__-AbC');
    expect(server.requests.map((request) => request.url)).toEqual(['/gateway/sta/api/v1/tenants/DEMO/users/%2B%2B%2B%2B%2Fw%3D%3D/authenticators/-__-AbC']);
  });

  it('lets an Object-Id-Format hex client address the same user as a base64 client', async () => {
    const sim = await simulator();
    const base64 = makeClient(cleanup, sim.url).client;
    const hex = makeClient(cleanup, sim.url, { objectIdFormat: 'hex' }).client;
    const base64User: UserRef = { tenantCode: 'DEMO', userId: ODD_USER_ID };
    const hexUser: UserRef = { tenantCode: 'DEMO', userId: hexOf(ODD_USER_ID) };
    expect(hexUser.userId).toBe('fbefbeff');

    const first = makeRegistration({ keyPair });
    const second = makeRegistration({ keyPair });
    await base64.createAuthenticator(base64User, requestFor(first));
    await hex.createAuthenticator(hexUser, requestFor(second));

    const ids = [first.credentialId, second.credentialId];
    expect((await hex.listAuthenticators(hexUser)).page.items.map((item) => item.id)).toEqual(ids);
    expect((await base64.listAuthenticators(base64User)).page.items.map((item) => item.id)).toEqual(ids);
    expect((await hex.getAuthenticator(hexUser, first.credentialId)).id).toBe(first.credentialId);
    expect(new Set(sim.authenticators('DEMO').map((stored) => stored.userId))).toEqual(new Set([ODD_USER_ID]));

    // The same text means another user (or none) in the other format.
    const wrongFormat = await staErrorOf(hex.listAuthenticators(base64User));
    expect(wrongFormat).toMatchObject({ status: 404, reason: 'user-not-found', staMessage: staMessage.userNotFound('hex', ODD_USER_ID) });
  });
});
