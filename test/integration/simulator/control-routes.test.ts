import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCredentialKeyPair } from '../../../fixtures/software-authenticator.js';
import { DEFAULT_FAULTS, startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.js';
import { STA_MESSAGES } from '../../../src/sta/documented-messages.js';
import { authenticatorsPath, base64UserId, createBody, messageOf, newRegistration, simRequest } from '../../helpers/sim-http.js';

const USER = base64UserId('control-user');
const keyPair = generateCredentialKeyPair();

const running: RunningSimulator[] = [];
async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator(options);
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const control = (sim: RunningSimulator, path: string, method = 'GET', body?: unknown) => simRequest(sim.url, `/_sim${path}`, { method, apiKey: null, body });

describe('PUT /_sim/faults', () => {
  it('changes the faults at runtime and returns the full settings', async () => {
    const sim = await simulator();
    const reply = await control(sim, '/faults', 'PUT', { faultRate: 1 });
    expect(reply.json).toEqual({ ...DEFAULT_FAULTS, faultRate: 1 });
    expect((await simRequest(sim.url, authenticatorsPath('DEMO', USER))).status).toBe(500);
    await control(sim, '/faults', 'PUT', { faultRate: 0 });
    expect((await simRequest(sim.url, authenticatorsPath('DEMO', USER))).status).toBe(200);
  });

  it('rejects invalid values with 400 and changes nothing', async () => {
    const sim = await simulator();
    for (const body of [{ faultRate: 2 }, { dropRate: -0.1 }, { dropMode: 'sideways' }, { rateLimitPerSecond: 0 }, { rateLimitPerSecond: 1.5 }, { latencyMs: -1 }, { latencyMS: 5 }, 'null']) {
      const reply = await control(sim, '/faults', 'PUT', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
    }
    expect((await control(sim, '/faults')).json).toEqual(DEFAULT_FAULTS);
  });

  it('makes setFaults throw RangeError on invalid values', async () => {
    const sim = await simulator();
    expect(() => {
      sim.setFaults({ faultRate: 3 });
    }).toThrow(RangeError);
    await expect(startSimulator({ faults: { dropRate: 7 } })).rejects.toThrow(RangeError);
  });
});

describe('POST /_sim/inject', () => {
  it('answers the next request of that operation (after authentication), once, first in first out', async () => {
    const sim = await simulator();
    const path = authenticatorsPath('DEMO', USER, 'AAAA');
    await control(sim, '/inject', 'POST', { operation: 'update', status: 404, message: STA_MESSAGES.tenantNotFoundException });
    await control(sim, '/inject', 'POST', { operation: 'update', status: 500, message: STA_MESSAGES.serviceException });

    expect((await simRequest(sim.url, path)).status).toBe(404); // a GET: not the injected operation
    expect((await simRequest(sim.url, path, { method: 'PATCH', apiKey: null, body: {} })).status).toBe(401); // not consumed
    const first = await simRequest(sim.url, path, { method: 'PATCH', body: {} });
    expect([first.status, messageOf(first)]).toEqual([404, STA_MESSAGES.tenantNotFoundException]);
    const second = await simRequest(sim.url, path, { method: 'PATCH', body: {} });
    expect([second.status, messageOf(second)]).toEqual([500, STA_MESSAGES.serviceException]);
    const third = await simRequest(sim.url, path, { method: 'PATCH', body: {} });
    expect(messageOf(third)).toBe("The authenticator ID ‘AAAA’ was not found.");
  });

  it('accepts parameterised documented messages and refuses undocumented pairs', async () => {
    const sim = await simulator();
    expect((await control(sim, '/inject', 'POST', { operation: 'delete', status: 404, message: 'The user userId ‘x’ was not found.' })).status).toBe(200);
    const refused = [
      { operation: 'list', status: 404, message: STA_MESSAGES.userNotFoundException },
      { operation: 'list', status: 200, message: 'Ok' },
      { operation: 'create', status: 409, message: 'Conflict' },
      { operation: 'patch', status: 500, message: STA_MESSAGES.serviceException },
      { operation: 'get', status: '500', message: STA_MESSAGES.serviceException },
    ];
    for (const body of refused) expect((await control(sim, '/inject', 'POST', body)).status, JSON.stringify(body)).toBe(400);
  });
});

describe('seeding, activation and inspection', () => {
  it('seeds an inline authenticator without apikey or import checks, and lists the tenant with user ids', async () => {
    const sim = await simulator({ tenants: [{ code: 'DEMO', importDisabled: true }] });
    const registration = newRegistration(keyPair);
    const seeded = await control(sim, `/tenants/DEMO/users/${encodeURIComponent(USER)}/authenticators`, 'POST', {
      ...(createBody(registration, 'Seeded') as object),
      provenance: 'inline',
    });
    expect(seeded.status).toBe(200);
    expect(seeded.json).toMatchObject({ id: registration.credentialId, userId: USER, state: 'pending', metadata: { provenance: 'inline', friendlyName: 'Seeded' } });
    const listed = await control(sim, '/tenants/DEMO/authenticators');
    expect(listed.json).toEqual([seeded.json]);
    expect(sim.authenticators('DEMO')).toEqual([seeded.json]);
    expect(sim.authenticators('NOPE')).toEqual([]);
    expect((await control(sim, '/tenants/NOPE/authenticators')).status).toBe(404);
    const duplicate = await control(sim, `/tenants/DEMO/users/${encodeURIComponent(USER)}/authenticators`, 'POST', createBody(registration));
    expect(duplicate.status).toBe(409);
  });

  it('activates a pending authenticator (200) and answers 404 for an unknown one', async () => {
    const sim = await simulator();
    const registration = newRegistration(keyPair);
    await simRequest(sim.url, authenticatorsPath('DEMO', USER), { method: 'POST', body: createBody(registration) });
    const base = `/tenants/DEMO/users/${encodeURIComponent(USER)}/authenticators`;
    const activated = await control(sim, `${base}/${registration.credentialId}/activate`, 'POST');
    expect(activated.status).toBe(200);
    expect(activated.json).toMatchObject({ id: registration.credentialId, state: 'active' });
    expect((await control(sim, `${base}/${registration.credentialId}/activate`, 'POST')).status).toBe(200);
    expect((await control(sim, `${base}/AAAA/activate`, 'POST')).status).toBe(404);
    const fetched = await simRequest(sim.url, authenticatorsPath('DEMO', USER, registration.credentialId));
    expect(fetched.json).toMatchObject({ state: 'active' });
  });

  it('resets authenticators and counters but keeps the configuration', async () => {
    const sim = await simulator({ faults: { latencyMs: 1 } });
    await simRequest(sim.url, authenticatorsPath('DEMO', USER), { method: 'POST', body: createBody(newRegistration(keyPair)) });
    expect(sim.stats().authenticators).toBe(1);
    await control(sim, '/reset', 'POST');
    expect(sim.authenticators('DEMO')).toEqual([]);
    expect(sim.stats().requests.total).toBe(0);
    expect((await control(sim, '/faults')).json).toMatchObject({ latencyMs: 1 });
  });
});

describe('routing and lifecycle', () => {
  it('answers 404 Not Found for unknown paths and 405 for a wrong method', async () => {
    const sim = await simulator();
    for (const path of ['/', '/api/v1/tenants/DEMO/users', `${authenticatorsPath('DEMO', USER, 'AAAA')}/extra`, '/_sim/nothing']) {
      const reply = await simRequest(sim.url, path);
      expect(reply.status, path).toBe(404);
      expect(reply.json).toEqual({ status: 404, message: 'Not Found' });
    }
    const wrongMethod = await simRequest(sim.url, authenticatorsPath('DEMO', USER), { method: 'PUT', body: {} });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });

  it('rejects user ids in the options that are not strict base64', async () => {
    await expect(startSimulator({ users: ['not base64'] })).rejects.toThrow(TypeError);
  });

  it('closes promptly with an idle keep-alive connection and a request waiting on latency', async () => {
    const sim = await simulator({ faults: { latencyMs: 10_000 } });
    const agent = new Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${sim.url}/_sim/stats`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      // An API request whose bytes are on the wire; the simulator holds it for 10 s of latency.
      let written: () => void = () => undefined;
      const sent = new Promise<void>((resolve) => (written = resolve));
      const pending = new Promise<unknown>((resolve) => {
        const req = httpRequest(`${sim.url}${authenticatorsPath('DEMO', USER)}`, { headers: { apikey: 'sim-key' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', resolve);
        req.on('finish', written);
        req.end();
      });
      await sent;
      const startedMs = performance.now();
      await sim.close();
      await sim.close(); // idempotent
      expect(performance.now() - startedMs).toBeLessThan(1_000);
      expect(await pending).toBeInstanceOf(Error);
    } finally {
      agent.destroy();
    }
  });
});
