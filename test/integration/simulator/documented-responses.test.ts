import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { DOCUMENTED_RESPONSES, STA_MESSAGES as M, staMessage, type DocumentedResponse, type StaOperation } from '../../../src/sta/documented-messages.js';
import {
  authenticatorsPath,
  base64UserId,
  createBody,
  hexOf,
  newRegistration,
  simRequest,
  type SimReply,
  type SimRequestInit,
} from '../../helpers/sim-http.js';

/**
 * One case per (operation, status, message) of DOCUMENTED_RESPONSES, each produced by a natural
 * request where one exists; only the messages an in-memory store cannot produce (PATCH's
 * "… Not Found Exception." trio and "Authenticator Service Exception." outside POST) go through
 * POST /_sim/inject. "Internal Server Error." comes from the faultRate control.
 */

const ALICE = base64UserId('alice@example.com');
const BOB = base64UserId('bob@example.com');
/** Well formed, but not among the simulator's users. */
const CAROL = base64UserId('carol@example.com');
/** Not strict base64 (length 3). */
const MALFORMED = 'abc';

const OPTIONS: SimulatorOptions = {
  tenants: [{ code: 'DEMO' }, { code: 'PLANLESS', planIncludesImport: false }, { code: 'NOIMPORT', importDisabled: true }, { code: 'OTHER' }],
  apiKeys: [
    { key: 'sim-key', tenants: '*' },
    { key: 'other-only', tenants: ['OTHER'] },
    { key: 'alice-key', tenants: ['DEMO'], ownerUserId: ALICE },
  ],
  users: { DEMO: [ALICE, BOB], PLANLESS: [ALICE], NOIMPORT: [ALICE], OTHER: [ALICE] },
};

let sim: RunningSimulator;
let faulty: RunningSimulator;
const keyPair = generateCredentialKeyPair();

beforeAll(async () => {
  sim = await startSimulator(OPTIONS);
  faulty = await startSimulator({ ...OPTIONS, faults: { faultRate: 1 } });
});

afterAll(async () => {
  await Promise.all([sim.close(), faulty.close()]);
});

const api = (path: string, init?: SimRequestInit): Promise<SimReply> => simRequest(sim.url, path, init);
const path = authenticatorsPath;

async function createFor(userId: string): Promise<string> {
  const registration = newRegistration(keyPair);
  const reply = await api(path('DEMO', userId), { method: 'POST', body: createBody(registration, 'Key') });
  expect(reply.status).toBe(200);
  return registration.credentialId;
}

async function injectThen(operation: StaOperation, status: number, message: string, request: () => Promise<SimReply>): Promise<SimReply> {
  const injected = await simRequest(sim.url, '/_sim/inject', { method: 'POST', apiKey: null, body: { operation, status, message } });
  expect(injected.status).toBe(200);
  return request();
}

/** What a request of each operation looks like, so the common cases (401, 404 tenant, …) are written once. */
const METHOD: Readonly<Record<StaOperation, string>> = { list: 'GET', create: 'POST', get: 'GET', delete: 'DELETE', update: 'PATCH' };
const hasItem = (operation: StaOperation): boolean => operation === 'get' || operation === 'delete' || operation === 'update';

function requestFor(operation: StaOperation, tenantCode: string, userId: string, init: SimRequestInit = {}, authenticatorId = 'AAAA'): Promise<SimReply> {
  const body = operation === 'create' ? createBody(newRegistration(keyPair)) : operation === 'update' ? { metadata: { friendlyName: 'x' } } : undefined;
  return api(path(tenantCode, userId, hasItem(operation) ? authenticatorId : undefined), { method: METHOD[operation], body, ...init });
}

interface Case {
  /** The concrete message expected in the body; null for a success (checked by `check`). */
  readonly expected: string | null;
  readonly call: () => Promise<SimReply>;
  readonly check?: (reply: SimReply) => void;
}

const cases = new Map<string, Case>();
const keyOf = (operation: StaOperation, status: number, catalogMessage: string): string => `${operation} ${status} ${catalogMessage}`;
function add(operation: StaOperation, status: number, catalogMessage: string, expected: string | null, call: () => Promise<SimReply>, check?: (reply: SimReply) => void): void {
  const key = keyOf(operation, status, catalogMessage);
  if (cases.has(key)) throw new Error(`duplicate case ${key}`);
  cases.set(key, { expected, call, ...(check === undefined ? {} : { check }) });
}

const OPERATIONS: readonly StaOperation[] = ['list', 'create', 'get', 'delete', 'update'];

// Common to every operation.
for (const op of OPERATIONS) {
  add(op, 400, M.tenantCodeEmpty, M.tenantCodeEmpty, () => requestFor(op, '', ALICE));
  add(op, 401, M.noApiKey, M.noApiKey, () => requestFor(op, 'DEMO', ALICE, { apiKey: null }));
  add(op, 401, M.invalidCredentials, M.invalidCredentials, () => requestFor(op, 'DEMO', ALICE, { apiKey: 'not-a-key' }));
  add(op, 401, M.noTenantPermission, M.noTenantPermission, () => requestFor(op, 'DEMO', ALICE, { apiKey: 'other-only' }));
  add(op, 404, staMessage.tenantNotFound('{tenantCode}'), staMessage.tenantNotFound('NOPE'), () => requestFor(op, 'NOPE', ALICE));
  add(op, 500, M.internalServerError, M.internalServerError, () =>
    simRequest(faulty.url, path('DEMO', ALICE, hasItem(op) ? 'AAAA' : undefined), { method: METHOD[op], body: op === 'create' ? createBody(newRegistration(keyPair)) : undefined }),
  );
  if (op !== 'list') add(op, 400, M.userIdEmpty, M.userIdEmpty, () => requestFor(op, 'DEMO', ''));
  if (hasItem(op)) {
    add(op, 400, M.authenticatorIdEmpty, M.authenticatorIdEmpty, () =>
      api(`${path('DEMO', ALICE)}/`, { method: METHOD[op], body: op === 'update' ? { state: 'active' } : undefined }),
    );
    add(op, 400, M.authenticatorIdNotBase64Url, M.authenticatorIdNotBase64Url, () => requestFor(op, 'DEMO', ALICE, {}, 'abc+def='));
    add(op, 404, staMessage.authenticatorNotFound('{authenticatorId}'), staMessage.authenticatorNotFound('AAAAAAAA'), () =>
      requestFor(op, 'DEMO', ALICE, {}, 'AAAAAAAA'),
    );
  }
}

// Object-Id-Format: three spellings of the message across the operations.
add('list', 400, M.objectIdFormatDefault, M.objectIdFormatDefault, () => requestFor('list', 'DEMO', ALICE, { headers: { 'Object-Id-Format': 'base32' } }));
for (const op of ['get', 'delete'] as const) {
  add(op, 400, M.objectIdFormatDefaultPeriod, M.objectIdFormatDefaultPeriod, () => requestFor(op, 'DEMO', ALICE, { headers: { 'Object-Id-Format': 'guid' } }));
}
for (const op of ['create', 'update'] as const) {
  add(op, 400, M.objectIdFormat, M.objectIdFormat, () => requestFor(op, 'DEMO', ALICE, { headers: { 'Object-Id-Format': 'uuid' } }));
}

// Unknown users: the wording differs per operation.
for (const op of ['list', 'get', 'create'] as const) {
  add(op, 404, staMessage.userNotFound('base64', '{userId}'), staMessage.userNotFound('base64', CAROL), () => requestFor(op, 'DEMO', CAROL));
  add(op, 404, staMessage.userNotFound('hex', '{userId}'), staMessage.userNotFound('hex', hexOf(CAROL)), () =>
    requestFor(op, 'DEMO', hexOf(CAROL), { headers: { 'Object-Id-Format': 'hex' } }),
  );
}
add('update', 404, staMessage.userNotFoundThe('base64', '{userId}'), staMessage.userNotFoundThe('base64', CAROL), () => requestFor('update', 'DEMO', CAROL));
add('update', 404, staMessage.userNotFoundThe('hex', '{userId}'), staMessage.userNotFoundThe('hex', hexOf(CAROL)), () =>
  requestFor('update', 'DEMO', hexOf(CAROL), { headers: { 'Object-Id-Format': 'hex' } }),
);
add('delete', 404, staMessage.userUserIdNotFound('{userId}'), staMessage.userUserIdNotFound(CAROL), () => requestFor('delete', 'DEMO', CAROL));
add('delete', 400, M.userIdentifierFormatException, M.userIdentifierFormatException, () => requestFor('delete', 'DEMO', MALFORMED));
add('update', 400, M.userIdentifierFormat, M.userIdentifierFormat, () => requestFor('update', 'DEMO', MALFORMED));

// Service exceptions: natural for POST (a payload whose CBOR does not decode), injected elsewhere.
add('create', 500, M.serviceException, M.serviceException, () =>
  api(path('DEMO', ALICE), { method: 'POST', body: createBody({ attestationObject: 'AAAA', clientDataJson: newRegistration(keyPair).clientDataJson }) }),
);
for (const op of ['list', 'get', 'delete', 'update'] as const) {
  add(op, 500, M.serviceException, M.serviceException, () => injectThen(op, 500, M.serviceException, () => requestFor(op, 'DEMO', ALICE)));
}
for (const message of [M.userNotFoundException, M.tenantNotFoundException, M.authenticatorNotFoundException]) {
  add('update', 404, message, message, () => injectThen('update', 404, message, () => requestFor('update', 'DEMO', ALICE)));
}

// list
add('list', 200, 'Ok', null, () => requestFor('list', 'DEMO', ALICE), (reply) => {
  expect(reply.json).toMatchObject({ itemType: 'Authenticator', page: { pageIndex: 0, pageSize: 10 } });
});
add('list', 400, M.pageIndexRange, M.pageIndexRange, () => api(`${path('DEMO', ALICE)}?pageIndex=-1`));
add('list', 400, M.pageSizeRange, M.pageSizeRange, () => api(`${path('DEMO', ALICE)}?pageSize=21`));
add('list', 400, M.validationTitle, M.validationTitle, () => api(`${path('DEMO', ALICE)}?pageIndex=abc`), (reply) => {
  expect(reply.json).toEqual({
    errors: { pageIndex: [staMessage.valueNotValid('abc')] },
    title: M.validationTitle,
    status: 400,
    traceId: expect.any(String) as unknown,
  });
});

// create
let created: ReturnType<typeof newRegistration> | undefined;
add(
  'create',
  200,
  M.imported,
  null,
  () => {
    created = newRegistration(keyPair);
    return api(path('DEMO', ALICE), { method: 'POST', body: createBody(created, 'Imported key') });
  },
  (reply) => {
    expect(reply.json).toMatchObject({ id: created?.credentialId, type: 'FIDO', state: 'pending', metadata: { provenance: 'imported', friendlyName: 'Imported key' } });
  },
);
add('create', 400, M.authenticatorNull, M.authenticatorNull, () => api(path('DEMO', ALICE), { method: 'POST', body: 'null' }));
add('create', 400, M.attestationObjectNotBase64Url, M.attestationObjectNotBase64Url, () => {
  const registration = newRegistration(keyPair);
  const standard = Buffer.from(registration.attestationObject, 'base64url').toString('base64');
  return api(path('DEMO', ALICE), { method: 'POST', body: createBody({ ...registration, attestationObject: standard }) });
});
add('create', 400, M.clientDataJsonNotBase64Url, M.clientDataJsonNotBase64Url, () => {
  const registration = newRegistration(keyPair);
  return api(path('DEMO', ALICE), { method: 'POST', body: createBody({ ...registration, clientDataJson: `${registration.clientDataJson}==` }) });
});
add('create', 403, M.planExcludesFeature, M.planExcludesFeature, () => requestFor('create', 'PLANLESS', ALICE));
add('create', 403, M.importDisabled, M.importDisabled, () => requestFor('create', 'NOIMPORT', ALICE));
add('create', 409, M.alreadyInUse, M.alreadyInUse, async () => {
  const registration = newRegistration(keyPair);
  const first = await api(path('DEMO', ALICE), { method: 'POST', body: createBody(registration) });
  expect(first.status).toBe(200);
  // Same credential, another user of the tenant: still in use.
  return api(path('DEMO', BOB), { method: 'POST', body: createBody(registration) });
});

// get
let fetchedId = '';
add(
  'get',
  200,
  'Ok',
  null,
  async () => {
    fetchedId = await createFor(ALICE);
    return api(path('DEMO', ALICE, fetchedId));
  },
  (reply) => {
    expect(reply.json).toMatchObject({ id: fetchedId, state: 'pending' });
  },
);

// delete
add(
  'delete',
  204,
  'No Content',
  null,
  async () => api(path('DEMO', BOB, await createFor(BOB)), { method: 'DELETE' }),
  (reply) => {
    expect(reply.text).toBe('');
  },
);
add('delete', 403, M.deleteOwnImported, M.deleteOwnImported, async () =>
  api(path('DEMO', ALICE, await createFor(ALICE)), { method: 'DELETE', apiKey: 'alice-key' }),
);

// update
add(
  'update',
  200,
  'Ok',
  null,
  async () => api(path('DEMO', ALICE, await createFor(ALICE)), { method: 'PATCH', body: { metadata: { friendlyName: 'Renamed' } } }),
  (reply) => {
    expect(reply.json).toMatchObject({ state: 'pending', metadata: { friendlyName: 'Renamed' } });
  },
);
add('update', 400, M.authenticatorNull, M.authenticatorNull, async () =>
  api(path('DEMO', ALICE, await createFor(ALICE)), { method: 'PATCH', body: '{"state": ' }),
);
add('update', 400, M.operationNotAllowed, M.operationNotAllowed, async () =>
  api(path('DEMO', ALICE, await createFor(ALICE)), { method: 'PATCH', body: { state: 'active' } }),
);

/** The message of an STA error body, or the title of the validation problem body. */
function readMessage(reply: SimReply): unknown {
  const body = reply.json as Record<string, unknown> | undefined;
  return body?.['errors'] !== undefined ? body['title'] : body?.['message'];
}

const catalog = (Object.entries(DOCUMENTED_RESPONSES) as [StaOperation, readonly DocumentedResponse[]][]).flatMap(([operation, entries]) =>
  entries.map((entry) => ({ operation, entry, key: keyOf(operation, entry.status, entry.message) })),
);

describe('the simulator answers every response the API document lists', () => {
  it('has exactly one test case per DOCUMENTED_RESPONSES entry', () => {
    expect([...cases.keys()].sort()).toEqual(catalog.map(({ key }) => key).sort());
  });

  for (const { operation, entry, key } of catalog) {
    it(`${operation}: ${entry.status} ${entry.message}`, async () => {
      const testCase = cases.get(key);
      if (testCase === undefined) throw new Error(`no test case for ${key}`);
      const reply = await testCase.call();
      expect(reply.status).toBe(entry.status);
      if (testCase.expected === null) {
        testCase.check?.(reply);
        return;
      }
      // The concrete text must itself be the catalog's (or fit its pattern), and the body must carry it.
      if (entry.pattern === undefined) expect(testCase.expected).toBe(entry.message);
      else expect(testCase.expected).toMatch(entry.pattern);
      expect(readMessage(reply)).toBe(testCase.expected);
      expect(reply.headers.get('content-type')).toMatch(/json/);
      if (testCase.check === undefined) expect(reply.json).toEqual({ status: entry.status, message: testCase.expected, traceId: expect.any(String) as unknown });
      else testCase.check(reply);
    });
  }
});
