import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import type { Authenticator } from '../../../src/sta/types.js';
import { authenticatorsPath, base64UserId, createBody, messageOf, newRegistration, simRequest, type SimReply } from '../../helpers/sim-http.js';

const ALICE = base64UserId('alice');
const BOB = base64UserId('bob');
const keyPair = generateCredentialKeyPair();

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    tenants: [
      { code: 'ACME' },
      { code: 'GLOBEX' },
      { code: 'OFF', importDisabled: true },
      { code: 'BASIC', planIncludesImport: false },
      { code: 'BASICOFF', planIncludesImport: false, importDisabled: true },
    ],
    apiKeys: [
      { key: 'acme-key', tenants: ['ACME'] },
      { key: 'admin-key', tenants: '*' },
      { key: 'alice-key', tenants: ['ACME'], ownerUserId: ALICE },
    ],
    // One list for every tenant.
    users: [ALICE, BOB],
  });
});

afterAll(async () => {
  await sim.close();
});

async function create(tenantCode: string, userId: string, friendlyName?: string, apiKey = 'admin-key'): Promise<string> {
  const registration = newRegistration(keyPair);
  const reply = await simRequest(sim.url, authenticatorsPath(tenantCode, userId), { method: 'POST', apiKey, body: createBody(registration, friendlyName) });
  expect(reply.status).toBe(200);
  return registration.credentialId;
}

async function seed(tenantCode: string, userId: string, provenance: 'inline' | 'imported'): Promise<string> {
  const registration = newRegistration(keyPair);
  const body = { ...(createBody(registration) as object), provenance };
  const reply = await simRequest(sim.url, `/_sim/tenants/${tenantCode}/users/${encodeURIComponent(userId)}/authenticators`, { method: 'POST', apiKey: null, body });
  expect(reply.status).toBe(200);
  return registration.credentialId;
}

async function activate(tenantCode: string, userId: string, id: string): Promise<void> {
  const reply = await simRequest(sim.url, `/_sim/tenants/${tenantCode}/users/${encodeURIComponent(userId)}/authenticators/${id}/activate`, { method: 'POST', apiKey: null });
  expect(reply.status).toBe(200);
}

function patch(id: string, body: unknown, userId = ALICE): Promise<SimReply> {
  return simRequest(sim.url, authenticatorsPath('ACME', userId, id), { method: 'PATCH', apiKey: 'admin-key', body });
}

async function current(id: string): Promise<Authenticator> {
  return (await simRequest(sim.url, authenticatorsPath('ACME', ALICE, id), { apiKey: 'admin-key' })).json as Authenticator;
}

describe('API keys scoped to tenants', () => {
  it('lets a scoped key use its tenant and refuses others with 401', async () => {
    expect((await simRequest(sim.url, authenticatorsPath('ACME', ALICE), { apiKey: 'acme-key' })).status).toBe(200);
    const refused = await simRequest(sim.url, authenticatorsPath('GLOBEX', ALICE), { apiKey: 'acme-key' });
    expect(refused.status).toBe(401);
    expect(messageOf(refused)).toBe(STA_MESSAGES.noTenantPermission);
  });

  it('reports an unknown tenant as 404 before the key scope', async () => {
    const reply = await simRequest(sim.url, authenticatorsPath('INITECH', ALICE), { apiKey: 'acme-key' });
    expect(reply.status).toBe(404);
    expect(messageOf(reply)).toBe(staMessage.tenantNotFound('INITECH'));
  });

  it('keeps credential ids per tenant: the same credential may be imported into two tenants', async () => {
    const registration = newRegistration(keyPair);
    for (const tenantCode of ['ACME', 'GLOBEX']) {
      const reply = await simRequest(sim.url, authenticatorsPath(tenantCode, ALICE), { method: 'POST', apiKey: 'admin-key', body: createBody(registration) });
      expect(reply.status).toBe(200);
    }
  });
});

describe('import gates on the tenant', () => {
  it('answers 403 import disabled, even for a body that would be invalid', async () => {
    for (const body of [createBody(newRegistration(keyPair)), 'not json']) {
      const reply = await simRequest(sim.url, authenticatorsPath('OFF', ALICE), { method: 'POST', apiKey: 'admin-key', body });
      expect(reply.status).toBe(403);
      expect(messageOf(reply)).toBe(STA_MESSAGES.importDisabled);
    }
    expect(sim.authenticators('OFF')).toEqual([]);
  });

  it('answers 403 plan excludes the feature, which wins over the console toggle', async () => {
    for (const tenantCode of ['BASIC', 'BASICOFF']) {
      const reply = await simRequest(sim.url, authenticatorsPath(tenantCode, ALICE), { method: 'POST', apiKey: 'admin-key', body: createBody(newRegistration(keyPair)) });
      expect(reply.status).toBe(403);
      expect(messageOf(reply)).toBe(STA_MESSAGES.planExcludesFeature);
    }
  });

  it('still reads authenticators of a tenant where import is off', async () => {
    const id = await seed('OFF', ALICE, 'inline');
    const reply = await simRequest(sim.url, authenticatorsPath('OFF', ALICE, id), { apiKey: 'admin-key' });
    expect(reply.json).toMatchObject({ id, metadata: { provenance: 'inline' } });
  });
});

describe('DELETE', () => {
  it('refuses (403) an imported authenticator of the key’s own user', async () => {
    const id = await create('ACME', ALICE);
    const reply = await simRequest(sim.url, authenticatorsPath('ACME', ALICE, id), { method: 'DELETE', apiKey: 'alice-key' });
    expect(reply.status).toBe(403);
    expect(messageOf(reply)).toBe(STA_MESSAGES.deleteOwnImported);
    expect(sim.authenticators('ACME').some((item) => item.id === id)).toBe(true);
  });

  it('deletes an inline authenticator of the key’s own user, and another user’s imported one', async () => {
    const inline = await seed('ACME', ALICE, 'inline');
    expect((await simRequest(sim.url, authenticatorsPath('ACME', ALICE, inline), { method: 'DELETE', apiKey: 'alice-key' })).status).toBe(204);
    const bobs = await create('ACME', BOB);
    const deleted = await simRequest(sim.url, authenticatorsPath('ACME', BOB, bobs), { method: 'DELETE', apiKey: 'alice-key' });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
  });

  it('answers 404 for the second delete, and the credential can then be imported again', async () => {
    const registration = newRegistration(keyPair);
    await simRequest(sim.url, authenticatorsPath('ACME', BOB), { method: 'POST', apiKey: 'admin-key', body: createBody(registration) });
    const path = authenticatorsPath('ACME', BOB, registration.credentialId);
    expect((await simRequest(sim.url, path, { method: 'DELETE', apiKey: 'admin-key' })).status).toBe(204);
    const again = await simRequest(sim.url, path, { method: 'DELETE', apiKey: 'admin-key' });
    expect(again.status).toBe(404);
    expect(messageOf(again)).toBe(staMessage.authenticatorNotFound(registration.credentialId));
    const reimported = await simRequest(sim.url, authenticatorsPath('ACME', ALICE), { method: 'POST', apiKey: 'admin-key', body: createBody(registration) });
    expect(reimported.status).toBe(200);
  });
});

describe('PATCH rules', () => {
  it('refuses any state change from pending, allows the same state', async () => {
    const id = await create('ACME', ALICE, 'Key');
    for (const state of ['active', 'suspended', 'locked']) {
      const reply = await patch(id, { state });
      expect(reply.status).toBe(400);
      expect(messageOf(reply)).toBe(STA_MESSAGES.operationNotAllowed);
    }
    const same = await patch(id, { state: 'pending' });
    expect(same.status).toBe(200);
    expect((await current(id)).state).toBe('pending');
  });

  it('moves active ↔ suspended, with same-state no-ops, and never back to pending', async () => {
    const id = await create('ACME', ALICE, 'Key');
    await activate('ACME', ALICE, id);
    const steps: [string, number, string][] = [
      ['suspended', 200, 'suspended'],
      ['suspended', 200, 'suspended'],
      ['active', 200, 'active'],
      ['active', 200, 'active'],
      ['pending', 400, 'active'],
      ['revoked', 400, 'active'],
      ['SUSPENDED', 200, 'suspended'],
    ];
    for (const [state, status, after] of steps) {
      const reply = await patch(id, { state });
      expect(reply.status, `PATCH state ${state}`).toBe(status);
      expect((await current(id)).state).toBe(after);
    }
  });

  it('refuses a blank friendly name over an existing one, and changes nothing else of that request', async () => {
    const id = await create('ACME', ALICE, 'Office key');
    await activate('ACME', ALICE, id);
    for (const friendlyName of ['', '   ']) {
      const reply = await patch(id, { state: 'suspended', metadata: { friendlyName } });
      expect(reply.status).toBe(400);
      expect(messageOf(reply)).toBe(STA_MESSAGES.operationNotAllowed);
    }
    expect(await current(id)).toMatchObject({ state: 'active', metadata: { friendlyName: 'Office key' } });
    const renamed = await patch(id, { metadata: { friendlyName: 'Home key' } });
    expect(renamed.json).toMatchObject({ state: 'active', metadata: { friendlyName: 'Home key' } });
  });

  it('accepts a blank friendly name when there was none, and an empty body as a no-op', async () => {
    const id = await create('ACME', ALICE);
    expect((await current(id)).metadata.friendlyName).toBe('');
    expect((await patch(id, { metadata: { friendlyName: '' } })).status).toBe(200);
    const before = await current(id);
    const noop = await patch(id, {});
    expect(noop.status).toBe(200);
    expect(noop.json).toEqual(before);
  });

  it('answers "Authenticator cannot be null." for bodies that do not bind', async () => {
    const id = await create('ACME', ALICE, 'Key');
    for (const body of ['', 'null', '[]', '"active"', '{"state": 3}', '{"metadata": "x"}', '{"metadata": {"friendlyName": 7}}']) {
      const reply = await patch(id, body);
      expect(reply.status, `body ${body}`).toBe(400);
      expect(messageOf(reply)).toBe(STA_MESSAGES.authenticatorNull);
    }
  });
});

describe('POST body validation', () => {
  const post = (body: unknown): Promise<SimReply> => simRequest(sim.url, authenticatorsPath('ACME', ALICE), { method: 'POST', apiKey: 'admin-key', body });

  it('answers "Authenticator cannot be null." for missing or unbindable bodies', async () => {
    for (const body of ['', 'null', '{}', '{"metadata": {}}', '{"metadata": {"attestation": "x"}}', '{ broken']) {
      const reply = await post(body);
      expect(reply.status, `body ${body}`).toBe(400);
      expect(messageOf(reply)).toBe(STA_MESSAGES.authenticatorNull);
    }
  });

  it('checks the base64url alphabet of attestationObject first, then clientDataJson', async () => {
    const registration = newRegistration(keyPair);
    const bad = { attestationObject: `${registration.attestationObject}=`, clientDataJson: 'a/b' };
    expect(messageOf(await post(createBody(bad)))).toBe(STA_MESSAGES.attestationObjectNotBase64Url);
    expect(messageOf(await post(createBody({ ...registration, clientDataJson: 'a/b' })))).toBe(STA_MESSAGES.clientDataJsonNotBase64Url);
    const missing = await post({ metadata: { attestation: { attestationObject: registration.attestationObject } } });
    expect(messageOf(missing)).toBe(STA_MESSAGES.clientDataJsonNotBase64Url);
  });

  it('answers 500 "Authenticator Service Exception." for a payload that does not decode', async () => {
    const registration = newRegistration(keyPair);
    const reply = await post(createBody({ ...registration, clientDataJson: 'bm90LWpzb24' }));
    expect(reply.status).toBe(500);
    expect(messageOf(reply)).toBe(STA_MESSAGES.serviceException);
  });
});
