import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import type { AuthenticatorPage } from '../../../src/sta/types.js';
import { authenticatorsPath, base64UserId, createBody, hexOf, messageOf, newRegistration, simRequest } from '../../helpers/sim-http.js';

/** base64 "+/+/" family: bytes fb ef be ff → "++++/w==" (plus, slash and padding). */
const ODD_USER = Buffer.from([0xfb, 0xef, 0xbe, 0xff]).toString('base64');
const OWNER = base64UserId('api-key-owner');
const HEX = { 'Object-Id-Format': 'hex' };

let sim: RunningSimulator;
const keyPair = generateCredentialKeyPair();

beforeAll(async () => {
  sim = await startSimulator({
    apiKeys: [
      { key: 'sim-key', tenants: '*' },
      { key: 'owner-key', tenants: '*', ownerUserId: OWNER },
    ],
    users: [ODD_USER, OWNER, base64UserId('other')],
  });
});

afterAll(async () => {
  await sim.close();
});

describe('user ids', () => {
  it('needs ODD_USER to contain +, / and =', () => {
    expect(ODD_USER).toBe('++++/w==');
  });

  it('accepts a base64 userId with + / = when URL-encoded in the path', async () => {
    const registration = newRegistration(keyPair);
    const created = await simRequest(sim.url, authenticatorsPath('DEMO', ODD_USER), { method: 'POST', body: createBody(registration) });
    expect(created.status).toBe(200);
    const fetched = await simRequest(sim.url, authenticatorsPath('DEMO', ODD_USER, registration.credentialId));
    expect(fetched.status).toBe(200);
    expect(sim.authenticators('DEMO').find((item) => item.id === registration.credentialId)?.userId).toBe(ODD_USER);
  });

  it('treats the hex spelling (Object-Id-Format: hex) as the same user', async () => {
    const registration = newRegistration(keyPair);
    const created = await simRequest(sim.url, authenticatorsPath('DEMO', hexOf(ODD_USER)), { method: 'POST', headers: HEX, body: createBody(registration) });
    expect(created.status).toBe(200);
    expect(hexOf(ODD_USER)).toBe('fbefbeff');

    const viaBase64 = await simRequest(sim.url, authenticatorsPath('DEMO', ODD_USER, registration.credentialId));
    expect(viaBase64.status).toBe(200);
    const viaUpperHex = await simRequest(sim.url, authenticatorsPath('DEMO', 'FBEFBEFF', registration.credentialId), { headers: { 'Object-Id-Format': 'HEX' } });
    expect(viaUpperHex.status).toBe(200);

    const base64List = (await simRequest(sim.url, authenticatorsPath('DEMO', ODD_USER))).json as AuthenticatorPage;
    const hexList = (await simRequest(sim.url, authenticatorsPath('DEMO', 'fbefbeff'), { headers: HEX })).json as AuthenticatorPage;
    expect(hexList.page.items.map((item) => item.id)).toEqual(base64List.page.items.map((item) => item.id));
    expect(hexList.page.totalItems).toBe(2);
    expect(hexList.links.self).toContain('/users/fbefbeff/authenticators');
    expect(sim.authenticators('DEMO').find((item) => item.id === registration.credentialId)?.userId).toBe(ODD_USER);
  });

  it('echoes the userId as the request wrote it in not-found messages', async () => {
    const unknownHex = hexOf(base64UserId('nobody'));
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', unknownHex), { headers: HEX });
    expect(reply.status).toBe(404);
    expect(messageOf(reply)).toBe(staMessage.userNotFound('hex', unknownHex));
  });

  it('refuses another user’s credential id (404), even in the same tenant', async () => {
    const registration = newRegistration(keyPair);
    await simRequest(sim.url, authenticatorsPath('DEMO', ODD_USER), { method: 'POST', body: createBody(registration) });
    const other = base64UserId('other');
    for (const method of ['GET', 'DELETE', 'PATCH']) {
      const reply = await simRequest(sim.url, authenticatorsPath('DEMO', other, registration.credentialId), { method, body: method === 'PATCH' ? {} : undefined });
      expect(reply.status).toBe(404);
      expect(messageOf(reply)).toBe(staMessage.authenticatorNotFound(registration.credentialId));
    }
  });

  it('recognises the API key’s own user by bytes, whichever format addresses it', async () => {
    const registration = newRegistration(keyPair);
    await simRequest(sim.url, authenticatorsPath('DEMO', OWNER), { method: 'POST', body: createBody(registration) });
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', hexOf(OWNER), registration.credentialId), { method: 'DELETE', headers: HEX, apiKey: 'owner-key' });
    expect(reply.status).toBe(403);
    expect(messageOf(reply)).toBe(STA_MESSAGES.deleteOwnImported);
  });

  it('judges well-formedness per format: non-canonical base64, odd-length hex, whitespace', async () => {
    // "QR==" decodes to the same byte as "QQ==": a non-canonical spelling is not a well-formed id.
    const nonCanonical = await simRequest(sim.url, authenticatorsPath('DEMO', 'QR==', 'AAAA'));
    expect(messageOf(nonCanonical)).toBe(staMessage.userNotFound('base64', 'QR=='));
    const oddHex = await simRequest(sim.url, authenticatorsPath('DEMO', 'abc', 'AAAA'), { method: 'DELETE', headers: HEX });
    expect(oddHex.status).toBe(400);
    expect(messageOf(oddHex)).toBe(STA_MESSAGES.userIdentifierFormatException);
    const blank = await simRequest(sim.url, authenticatorsPath('DEMO', '   ', 'AAAA'));
    expect(blank.status).toBe(400);
    expect(messageOf(blank)).toBe(STA_MESSAGES.userIdEmpty);
  });

  it('treats an empty userId on the list as an unknown user (the list documents no userId-empty message)', async () => {
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', ''));
    expect(reply.status).toBe(404);
    expect(messageOf(reply)).toBe(staMessage.userNotFound('base64', ''));
  });

  it('does not match the route when a / in the userId is left unencoded', async () => {
    const reply = await simRequest(sim.url, `/api/v1/tenants/DEMO/users/${ODD_USER}/authenticators`);
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ status: 404, message: 'Not Found' });
  });
});
