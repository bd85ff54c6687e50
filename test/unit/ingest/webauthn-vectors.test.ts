/**
 * Public WebAuthn registration vectors (other libraries' test suites), read from the shared folder
 * beside the repository — never copied into it. Skipped, saying so, where that folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { preflight, type PreflightOptions } from '../../../src/ingest/preflight.js';

/** The repository's `../shared/vectors/webauthn-registrations.json`. */
const VECTORS_PATH = fileURLToPath(new URL('../../../../shared/vectors/webauthn-registrations.json', import.meta.url));

interface Vector {
  readonly name: string;
  readonly fmt: string | null;
  readonly attestationObject: string;
  readonly clientDataJSON: string;
  readonly expect: {
    readonly credentialIdB64url?: string;
    readonly aaguid?: string;
    readonly alg?: number;
    readonly rpId?: string;
  };
}

function loadVectors(): Vector[] {
  const parsed = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${VECTORS_PATH}: expected an array of vectors`);
  return parsed as Vector[];
}

const present = existsSync(VECTORS_PATH);
const vectors = present ? loadVectors() : [];
const withAttestation = vectors.filter((vector) => vector.attestationObject !== '');
const empty = vectors.filter((vector) => vector.attestationObject === '');

const OPTIONS: PreflightOptions = { rpId: null, strict: false, defaultTenant: 'ACME', objectIdFormat: 'base64' };
const USER_ID = Buffer.from('vector-user').toString('base64');

const suite = present ? describe : describe.skip;

suite(present ? 'public WebAuthn registration vectors' : `public WebAuthn registration vectors — skipped: ${VECTORS_PATH} not found`, () => {
  it('holds the registrations the tests below expect', () => {
    expect(withAttestation.length).toBeGreaterThanOrEqual(20);
    expect(empty.length).toBe(1);
  });

  it.each(withAttestation.map((vector) => [vector.name, vector] as const))('%s passes pre-flight with the stated credential id, AAGUID and algorithm', (_name, vector) => {
    const result = preflight({ userId: USER_ID, attestationObject: vector.attestationObject, clientDataJson: vector.clientDataJSON }, OPTIONS);
    if (!result.ok) throw new Error(`${vector.name}: ${result.reason}`);
    expect(result.record.credentialId).toBe(vector.expect.credentialIdB64url);
    expect(result.record.facts.aaguid).toBe(vector.expect.aaguid);
    expect(result.record.facts.alg).toBe(vector.expect.alg);
    expect(result.record.facts.fmt).toBe(vector.fmt);
  });

  it.each(withAttestation.filter((vector) => vector.expect.rpId !== undefined).map((vector) => [vector.name, vector] as const))(
    '%s passes the --rp-id check with the RP ID its source states',
    (_name, vector) => {
      const result = preflight({ userId: USER_ID, attestationObject: vector.attestationObject, clientDataJson: vector.clientDataJSON }, { ...OPTIONS, rpId: vector.expect.rpId ?? null });
      if (!result.ok) throw new Error(`${vector.name}: ${result.reason}`);
      expect(result.record.credentialId).toBe(vector.expect.credentialIdB64url);
    },
  );

  it.each(empty.map((vector) => [vector.name, vector] as const))('%s (empty attestation object) is invalid', (_name, vector) => {
    const result = preflight({ userId: USER_ID, attestationObject: vector.attestationObject, clientDataJson: vector.clientDataJSON }, OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toBe('attestationObject is missing');
  });
});
