import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import type { AuthenticatorPage } from '../../../src/sta/types.js';
import { authenticatorsPath, base64UserId, createBody, messageOf, newRegistration, simRequest, type SimReply } from '../../helpers/sim-http.js';

const USER = base64UserId('many-keys');
/** Bytes fb ef be ff: base64 "++++/w==", which needs URL-encoding in paths and links. */
const ODD_USER = Buffer.from([0xfb, 0xef, 0xbe, 0xff]).toString('base64');
const EMPTY_USER = base64UserId('no-keys');
const TOTAL = 25;

let sim: RunningSimulator;
const createdIds: string[] = [];

beforeAll(async () => {
  sim = await startSimulator();
  const keyPair = generateCredentialKeyPair();
  for (let index = 0; index < TOTAL; index += 1) {
    const registration = newRegistration(keyPair);
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', USER), { method: 'POST', body: createBody(registration, `key ${index}`) });
    expect(reply.status).toBe(200);
    createdIds.push(registration.credentialId);
  }
  for (let index = 0; index < 3; index += 1) {
    const reply = await simRequest(sim.url, authenticatorsPath('DEMO', ODD_USER), { method: 'POST', body: createBody(newRegistration(keyPair)) });
    expect(reply.status).toBe(200);
  }
});

afterAll(async () => {
  await sim.close();
});

function list(userId: string, query: string): Promise<SimReply> {
  return simRequest(sim.url, `${authenticatorsPath('DEMO', userId)}${query}`);
}

function pageOf(reply: SimReply): AuthenticatorPage {
  expect(reply.status).toBe(200);
  return reply.json as AuthenticatorPage;
}

function link(userId: string, pageIndex: number, pageSize: number): string {
  return `${sim.url}${authenticatorsPath('DEMO', userId)}?pageIndex=${pageIndex}&pageSize=${pageSize}`;
}

describe('GET …/authenticators pagination', () => {
  it('defaults to page 0 of size 10, items in creation order', async () => {
    const page = pageOf(await list(USER, ''));
    expect(page.page).toMatchObject({ totalItems: TOTAL, pageIndex: 0, pageSize: 10, totalPages: 3 });
    expect(page.page.items.map((item) => item.id)).toEqual(createdIds.slice(0, 10));
    expect(page.itemType).toBe('Authenticator');
    expect(page.links).toEqual({ first: link(USER, 0, 10), self: link(USER, 0, 10), last: link(USER, 2, 10), prev: null, next: link(USER, 1, 10) });
  });

  it('serves pageSize 1 with one item per page and totalPages = totalItems', async () => {
    const page = pageOf(await list(USER, '?pageIndex=3&pageSize=1'));
    expect(page.page).toMatchObject({ totalItems: TOTAL, pageIndex: 3, pageSize: 1, totalPages: TOTAL });
    expect(page.page.items.map((item) => item.id)).toEqual([createdIds[3]]);
    expect(page.links).toMatchObject({ prev: link(USER, 2, 1), next: link(USER, 4, 1), last: link(USER, TOTAL - 1, 1) });
  });

  it('serves pageSize 20, the largest allowed', async () => {
    const first = pageOf(await list(USER, '?pageSize=20'));
    expect(first.page.items).toHaveLength(20);
    expect(first.page.totalPages).toBe(2);
    const second = pageOf(await list(USER, '?pageIndex=1&pageSize=20'));
    expect(second.page.items.map((item) => item.id)).toEqual(createdIds.slice(20));
    expect(second.links).toMatchObject({ prev: link(USER, 0, 20), next: null, last: link(USER, 1, 20) });
  });

  it('rejects pageSize 21 and 0 with the documented 400', async () => {
    for (const size of [21, 0, -3]) {
      const reply = await list(USER, `?pageSize=${size}`);
      expect(reply.status).toBe(400);
      expect(messageOf(reply)).toBe(STA_MESSAGES.pageSizeRange);
    }
  });

  it('rejects a negative pageIndex with the documented 400', async () => {
    const reply = await list(USER, '?pageIndex=-1&pageSize=5');
    expect(reply.status).toBe(400);
    expect(messageOf(reply)).toBe(STA_MESSAGES.pageIndexRange);
  });

  it('marks the last page with next = null and prev = the page before', async () => {
    const page = pageOf(await list(USER, '?pageIndex=2'));
    expect(page.page.items.map((item) => item.id)).toEqual(createdIds.slice(20));
    expect(page.links).toMatchObject({ self: link(USER, 2, 10), prev: link(USER, 1, 10), next: null, last: link(USER, 2, 10) });
  });

  it('answers a page past the end with 200 and no items; prev leads back to the last page', async () => {
    const page = pageOf(await list(USER, '?pageIndex=7'));
    expect(page.page).toMatchObject({ totalItems: TOTAL, pageIndex: 7, totalPages: 3, items: [] });
    expect(page.links).toMatchObject({ self: link(USER, 7, 10), prev: link(USER, 2, 10), next: null, last: link(USER, 2, 10) });
  });

  it('answers an existing user without authenticators with an empty page', async () => {
    const page = pageOf(await list(EMPTY_USER, ''));
    expect(page.page).toEqual({ totalItems: 0, pageIndex: 0, pageSize: 10, totalPages: 0, items: [] });
    expect(page.links).toEqual({ first: link(EMPTY_USER, 0, 10), self: link(EMPTY_USER, 0, 10), last: link(EMPTY_USER, 0, 10), prev: null, next: null });
  });

  it('answers non-numeric pageIndex / pageSize with the ASP.NET validation problem body', async () => {
    const reply = await list(USER, '?pageIndex=abc');
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/json/);
    expect(reply.json).toEqual({
      errors: { pageIndex: [staMessage.valueNotValid('abc')] },
      title: STA_MESSAGES.validationTitle,
      status: 400,
      traceId: expect.any(String) as unknown,
    });
    expect(reply.text).toContain('The value ‘abc’ is not valid.');

    const both = await list(USER, '?pageIndex=1.5&pageSize=ten');
    expect(both.json).toMatchObject({ errors: { pageIndex: ['The value ‘1.5’ is not valid.'], pageSize: ['The value ‘ten’ is not valid.'] } });
    expect(Object.keys(both.json as object)).toEqual(['errors', 'title', 'status', 'traceId']);
  });

  it('walks every item exactly once by following the next links', async () => {
    const seen: string[] = [];
    let next: string | null = `${sim.url}${authenticatorsPath('DEMO', USER)}?pageSize=7`;
    let pages = 0;
    while (next !== null) {
      const response = await fetch(next, { headers: { apikey: 'sim-key' } });
      const page = (await response.json()) as AuthenticatorPage;
      seen.push(...page.page.items.map((item) => item.id));
      next = page.links.next;
      pages += 1;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(createdIds);
  });

  it('URL-encodes a userId with + / = in the links, and the links work', async () => {
    const page = pageOf(await list(ODD_USER, '?pageSize=2'));
    expect(page.links.next).toBe(`${sim.url}/api/v1/tenants/DEMO/users/%2B%2B%2B%2B%2Fw%3D%3D/authenticators?pageIndex=1&pageSize=2`);
    const response = await fetch(page.links.next ?? '', { headers: { apikey: 'sim-key' } });
    const second = (await response.json()) as AuthenticatorPage;
    expect(second.page).toMatchObject({ totalItems: 3, pageIndex: 1, totalPages: 2 });
    expect(second.page.items).toHaveLength(1);
  });

  it('builds the links from the Host header the client sent', async () => {
    // fetch() replaces Host; undici.request sends it as given (as a reverse proxy would).
    const response = await request(`${sim.url}${authenticatorsPath('DEMO', USER)}`, { headers: { apikey: 'sim-key', host: 'sta.example.test:8443' } });
    expect(response.statusCode).toBe(200);
    const page = (await response.body.json()) as AuthenticatorPage;
    expect(page.links.first).toBe(`http://sta.example.test:8443${authenticatorsPath('DEMO', USER)}?pageIndex=0&pageSize=10`);
  });
});
