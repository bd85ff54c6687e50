import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { STA_MESSAGES } from '../../../src/sta/documented-messages.js';
import { authenticatorsPath, base64UserId, messageOf, simRequest } from '../../helpers/sim-http.js';
import { DOCUMENT_SAMPLE_CREDENTIAL_ID, DOCUMENT_SAMPLE_PATCH_BODY, DOCUMENT_SAMPLE_POST_BODY } from './document-samples.js';

const DOCUMENT = fileURLToPath(new URL('../../../../shared/sta-api/authenticator-management-api.txt', import.meta.url));
const USER = base64UserId('sample-user');

let sim: RunningSimulator;
const fixedNow = new Date('2025-03-01T12:00:00.000Z');

beforeAll(async () => {
  sim = await startSimulator({ now: () => fixedNow });
});

afterAll(async () => {
  await sim.close();
});

describe("the API document's sample requests", () => {
  it.skipIf(!existsSync(DOCUMENT))('are copied verbatim from the document', () => {
    const document = readFileSync(DOCUMENT, 'utf8');
    expect(document).toContain(`Sample request\n${DOCUMENT_SAMPLE_POST_BODY}\nResponses`);
    expect(document).toContain(`Sample request\n${DOCUMENT_SAMPLE_PATCH_BODY}\nSample response`);
  });

  it('accepts the sample POST body (indefinite-length CBOR, webauthn.get clientData) with 200', async () => {
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', USER), {
      method: 'POST',
      body: DOCUMENT_SAMPLE_POST_BODY,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      id: DOCUMENT_SAMPLE_CREDENTIAL_ID,
      type: 'FIDO',
      state: 'pending',
      lastUsedAuthnDateTime: null,
      lastSuccessAuthnDateTime: null,
      createdDateTime: fixedNow.toISOString(),
      metadata: {
        aaguid: 'c3c512ec-8e7f-11ea-a915-cf12cba00426',
        friendlyName: 'My_TouchPass_B',
        rpId: 'my.rp.com',
        signatureCounter: 1,
        coseAlgoId: -7,
        provenance: 'imported',
      },
    });
  });

  it('returns the sample authenticator by its credential id: imported, pending, metadata from the attestation', async () => {
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', USER, DOCUMENT_SAMPLE_CREDENTIAL_ID));
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      id: DOCUMENT_SAMPLE_CREDENTIAL_ID,
      state: 'pending',
      metadata: { provenance: 'imported', aaguid: 'c3c512ec-8e7f-11ea-a915-cf12cba00426', rpId: 'my.rp.com', coseAlgoId: -7, signatureCounter: 1 },
    });
  });

  it('refuses the sample PATCH while the authenticator is pending', async () => {
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', USER, DOCUMENT_SAMPLE_CREDENTIAL_ID), {
      method: 'PATCH',
      body: DOCUMENT_SAMPLE_PATCH_BODY,
    });
    expect(reply.status).toBe(400);
    expect(messageOf(reply)).toBe(STA_MESSAGES.operationNotAllowed);
  });

  it('accepts the sample PATCH once the activation flow made the authenticator active', async () => {
    const activation = await simRequest(
      sim.url,
      `/_sim/tenants/DEMO/users/${encodeURIComponent(USER)}/authenticators/${DOCUMENT_SAMPLE_CREDENTIAL_ID}/activate`,
      { method: 'POST', apiKey: null },
    );
    expect(activation.status).toBe(200);
    expect(activation.json).toMatchObject({ state: 'active', userId: USER, lastSuccessAuthnDateTime: fixedNow.toISOString() });

    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', USER, DOCUMENT_SAMPLE_CREDENTIAL_ID), {
      method: 'PATCH',
      body: DOCUMENT_SAMPLE_PATCH_BODY,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id: DOCUMENT_SAMPLE_CREDENTIAL_ID, state: 'active', metadata: { friendlyName: 'My_TouchPass_B', provenance: 'imported' } });
  });

  it('answers 409 when the sample is posted again', async () => {
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', base64UserId('someone-else')), { method: 'POST', body: DOCUMENT_SAMPLE_POST_BODY });
    expect(reply.status).toBe(409);
    expect(messageOf(reply)).toBe(STA_MESSAGES.alreadyInUse);
  });
});
