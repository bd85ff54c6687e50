import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair, makeRegistration } from '../../../fixtures/software-authenticator.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import type { StaOperation } from '../../../src/sta/documented-messages.js';
import { MAX_PAGE_SIZE, type StaClient } from '../../../src/sta/sta-client.js';
import type { UserRef } from '../../../src/sta/types.js';
import { base64UserId, createBody, simRequest } from '../../helpers/sim-http.js';
import { Cleanup, makeClient } from './harness.js';

const SIZES = [0, 1, 20, 21, 45] as const;
const cleanup = new Cleanup();
let sim: RunningSimulator;
/** Credential ids per user size, in creation order. */
const seeded = new Map<number, string[]>();

function userWith(count: number): UserRef {
  return { tenantCode: 'DEMO', userId: base64UserId(`user-with-${count}`) };
}

beforeAll(async () => {
  sim = cleanup.add(await startSimulator());
  const keyPair = generateCredentialKeyPair();
  for (const count of SIZES) {
    const ids: string[] = [];
    const path = `/_sim/tenants/DEMO/users/${encodeURIComponent(userWith(count).userId)}/authenticators`;
    for (let index = 0; index < count; index += 1) {
      const registration = makeRegistration({ keyPair });
      // Seeded through the control route: not counted in the API stats.
      const reply = await simRequest(sim.url, path, { method: 'POST', apiKey: null, body: createBody(registration) });
      expect(reply.status).toBe(200);
      ids.push(registration.credentialId);
    }
    seeded.set(count, ids);
  }
});

afterAll(() => cleanup.closeAll());

function listRequestsSoFar(): number {
  return sim.stats().requests.byOperation.list;
}

async function collect(client: StaClient, user: UserRef, pageSize?: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const authenticator of client.iterateAuthenticators(user, pageSize)) ids.push(authenticator.id);
  return ids;
}

describe('iterateAuthenticators', () => {
  it.each(SIZES)('walks every page of a user with %d authenticators in ceil(k/20) calls (1 for none)', async (count) => {
    const beforeRequests: StaOperation[] = [];
    const { client, events } = makeClient(cleanup, sim.url, {
      beforeRequest: (operation) => {
        beforeRequests.push(operation);
        return Promise.resolve();
      },
    });
    const listedBefore = listRequestsSoFar();

    const ids = await collect(client, userWith(count));

    const expectedCalls = Math.max(1, Math.ceil(count / MAX_PAGE_SIZE));
    expect(ids).toEqual(seeded.get(count));
    expect(listRequestsSoFar() - listedBefore).toBe(expectedCalls);
    expect(events).toHaveLength(expectedCalls);
    expect(events.every((event) => event.operation === 'list' && event.status === 200)).toBe(true);
    expect(beforeRequests).toEqual(Array.from({ length: expectedCalls }, () => 'list'));
  });

  it('walks smaller pages when asked: 45 authenticators by 7 in 7 calls', async () => {
    const { client, events } = makeClient(cleanup, sim.url);
    const listedBefore = listRequestsSoFar();
    expect(await collect(client, userWith(45), 7)).toEqual(seeded.get(45));
    expect(listRequestsSoFar() - listedBefore).toBe(7);
    expect(events).toHaveLength(7);
  });

  it('awaits beforeRequest before each page: a slow limiter paces the walk', async () => {
    const waitMs = 40;
    const log: string[] = [];
    const { client } = makeClient(cleanup, sim.url, {
      beforeRequest: async () => {
        log.push('acquire');
        await sleep(waitMs);
        log.push('acquired');
      },
      onCall: (event) => log.push(`call ${event.status ?? 'none'}`),
    });
    const started = performance.now();
    expect(await collect(client, userWith(45))).toHaveLength(45);
    const elapsedMs = performance.now() - started;

    expect(log).toEqual(['acquire', 'acquired', 'call 200', 'acquire', 'acquired', 'call 200', 'acquire', 'acquired', 'call 200']);
    // Timers never fire early by more than rounding; three sequential waits take at least ~3 × 40 ms.
    expect(elapsedMs).toBeGreaterThanOrEqual(3 * waitMs - 3);
  });

  it('sends nothing when beforeRequest rejects, and stops the walk at that page', async () => {
    let granted = 0;
    const refusal = new Error('limiter closed');
    const { client, events } = makeClient(cleanup, sim.url, {
      beforeRequest: async () => {
        await Promise.resolve();
        if (granted === 2) throw refusal;
        granted += 1;
      },
    });
    const listedBefore = listRequestsSoFar();
    const ids: string[] = [];
    await expect(
      (async () => {
        for await (const authenticator of client.iterateAuthenticators(userWith(45))) ids.push(authenticator.id);
      })(),
    ).rejects.toBe(refusal);

    expect(ids).toEqual(seeded.get(45)?.slice(0, 40));
    expect(listRequestsSoFar() - listedBefore).toBe(2);
    expect(events).toHaveLength(2);
  });

  it('awaits beforeRequest for every operation, with the operation name', async () => {
    const operations: StaOperation[] = [];
    const { client } = makeClient(cleanup, sim.url, {
      beforeRequest: async (operation) => {
        await Promise.resolve();
        operations.push(operation);
      },
    });
    const user: UserRef = { tenantCode: 'DEMO', userId: base64UserId('operations-user') };
    const registration = makeRegistration();
    await client.createAuthenticator(user, {
      type: 'FIDO',
      metadata: { attestation: { clientDataJson: registration.clientDataJson, attestationObject: registration.attestationObject } },
    });
    await client.getAuthenticator(user, registration.credentialId);
    await client.listAuthenticators(user);
    await client.updateAuthenticator(user, registration.credentialId, {}).catch(() => undefined);
    await client.deleteAuthenticator(user, registration.credentialId);
    expect(operations).toEqual(['create', 'get', 'list', 'update', 'delete']);
  });
});
