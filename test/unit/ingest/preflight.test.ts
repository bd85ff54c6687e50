import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeCbor, type CborValue } from '../../../fixtures/cbor-encode.js';
import { generateCredentialKeyPair, makeRegistration, type RegistrationOptions, type SoftwareRegistration } from '../../../fixtures/software-authenticator.js';
import type { CanonicalFields } from '../../../src/ingest/fields.js';
import { MAX_ATTESTATION_OBJECT_CHARS, MAX_CLIENT_DATA_CHARS, preflight, type PreflightOptions, type PreflightResult } from '../../../src/ingest/preflight.js';

const keyPair = generateCredentialKeyPair();
const USER = Buffer.from('alice@example.com').toString('base64'); // YWxpY2VAZXhhbXBsZS5jb20= (has '=')
const OPTIONS: PreflightOptions = { rpId: null, strict: false, defaultTenant: 'ACME', objectIdFormat: 'base64' };
const STRICT: PreflightOptions = { ...OPTIONS, strict: true };

function registration(options: RegistrationOptions = {}): SoftwareRegistration {
  return makeRegistration({ keyPair, ...options });
}

function fieldsOf(reg: Pick<SoftwareRegistration, 'attestationObject' | 'clientDataJson'>, extra: CanonicalFields = {}): CanonicalFields {
  return { userId: USER, attestationObject: reg.attestationObject, clientDataJson: reg.clientDataJson, ...extra };
}

function expectValid(result: PreflightResult): Extract<PreflightResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected valid, got: ${result.reason}`);
  return result;
}

function expectInvalid(result: PreflightResult): Extract<PreflightResult, { ok: false }> {
  if (result.ok) throw new Error('expected invalid, got a valid record');
  return result;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/** The authData of a real registration, to break by hand. */
function authDataOf(reg: SoftwareRegistration): Buffer {
  // Packed self attestation from the software authenticator: {fmt, attStmt, authData} with authData last.
  const bytes = Buffer.from(reg.attestationObject, 'base64url');
  const marker = Buffer.concat([Buffer.from([0x68]), Buffer.from('authData')]);
  const at = bytes.indexOf(marker) + marker.length;
  const head = bytes[at] ?? 0;
  // Byte string header: 0x58 n (1-byte length) or 0x59 nn (2-byte length).
  if (head === 0x58) return bytes.subarray(at + 2, at + 2 + (bytes[at + 1] ?? 0));
  if (head === 0x59) return bytes.subarray(at + 3, at + 3 + bytes.readUInt16BE(at + 1));
  throw new Error('unexpected authData encoding');
}

function attestationWith(value: CborValue): string {
  return b64url(encodeCbor(value));
}

describe('preflight', () => {
  it('accepts a real registration and extracts the credential id, AAGUID, algorithm and rpIdHash', () => {
    const reg = registration({ aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8' });
    const result = expectValid(
      preflight(fieldsOf(reg, { friendlyName: '  Desk key  ', externalId: 'cms-1', state: 'Active', tenantCode: 'OTHER' }), { ...OPTIONS, rpId: 'login.example.com' }),
    );
    expect(result.warnings).toEqual([]);
    expect(result.record).toMatchObject({
      tenantCode: 'OTHER',
      userId: USER,
      credentialId: reg.credentialId,
      friendlyName: 'Desk key',
      externalId: 'cms-1',
      state: 'active',
      attestationObject: reg.attestationObject,
      clientDataJson: reg.clientDataJson,
    });
    expect(result.record.facts).toMatchObject({
      fmt: 'packed',
      aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
      alg: -7,
      rpIdHashHex: createHash('sha256').update('login.example.com').digest('hex'),
      userPresent: true,
    });
  });

  it('uses the default tenant (STA_TENANT) when the record has none, and rejects a record with neither', () => {
    const reg = registration();
    expect(expectValid(preflight(fieldsOf(reg), OPTIONS)).record.tenantCode).toBe('ACME');
    expect(expectValid(preflight(fieldsOf(reg, { tenantCode: '   ' }), OPTIONS)).record.tenantCode).toBe('ACME');
    expect(expectInvalid(preflight(fieldsOf(reg), { ...OPTIONS, defaultTenant: null })).reason).toBe('tenantCode is missing and STA_TENANT is not set');
    expect(expectInvalid(preflight(fieldsOf(reg, { tenantCode: 'AC ME' }), OPTIONS)).reason).toMatch(/^tenantCode 'AC ME' contains a space/);
    expect(expectInvalid(preflight(fieldsOf(reg, { tenantCode: 'a/b' }), OPTIONS)).reason).toMatch(/contains a space, '\/', '\?' or '#'/);
  });

  it.each(['userId', 'attestationObject', 'clientDataJson'] as const)('rejects a record without %s (absent, null or blank)', (field) => {
    const reg = registration();
    for (const value of [undefined, null, '', '   ']) {
      const fields: CanonicalFields = { ...fieldsOf(reg), [field]: value };
      expect(expectInvalid(preflight(fields, OPTIONS)).reason).toBe(`${field} is missing`);
    }
  });

  it('rejects a field that is an object or an array rather than text, and reads numbers as text', () => {
    const reg = registration();
    expect(expectInvalid(preflight(fieldsOf(reg, { friendlyName: { a: 1 } }), OPTIONS)).reason).toBe('friendlyName is an object, not text');
    expect(expectInvalid(preflight(fieldsOf(reg, { attestationObject: [reg.attestationObject] }), OPTIONS)).reason).toBe('attestationObject is an array, not text');
    expect(expectValid(preflight(fieldsOf(reg, { externalId: 42 }), OPTIONS)).record.externalId).toBe('42');
  });

  describe('userId', () => {
    const reg = registration();
    const check = (userId: string, objectIdFormat: 'base64' | 'hex') => preflight(fieldsOf(reg, { userId }), { ...OPTIONS, objectIdFormat });

    it('accepts standard base64 with + / and = padding when STA_OBJECT_ID_FORMAT=base64', () => {
      expect(expectValid(check('ab+/cd==', 'base64')).record.userId).toBe('ab+/cd==');
      expect(expectValid(check(USER, 'base64')).record.userId).toBe(USER);
    });

    it('rejects base64 without padding, base64url, and other characters, with a hint for base64url', () => {
      expect(expectInvalid(check('YWxpY2U', 'base64')).reason).toBe("userId 'YWxpY2U' is not base64 (STA_OBJECT_ID_FORMAT=base64)");
      expect(expectInvalid(check('ab-_cd==', 'base64')).reason).toBe(
        "userId 'ab-_cd==' is not base64 (STA_OBJECT_ID_FORMAT=base64); it looks base64url (- _): STA expects standard base64 (+ /)",
      );
      expect(expectInvalid(check('alice@example.com', 'base64')).reason).toMatch(/is not base64/);
    });

    it('accepts even-length hex and rejects anything else when STA_OBJECT_ID_FORMAT=hex', () => {
      expect(expectValid(check('0aFf19', 'hex')).record.userId).toBe('0aFf19');
      expect(expectInvalid(check('abc', 'hex')).reason).toBe("userId 'abc' is not hex (STA_OBJECT_ID_FORMAT=hex)");
      expect(expectInvalid(check(USER, 'hex')).reason).toMatch(/is not hex/);
    });
  });

  describe('encodings', () => {
    it('converts standard-base64 payloads to base64url with a warning, and --strict keeps it a warning (nothing is lost)', () => {
      // clientData with '?' and '~' (whose base64 holds '/' and '+'); "none" attestation signs nothing, so it stays consistent.
      let reg = registration({ format: 'none' });
      const standard = (bytes: Buffer) => bytes.toString('base64');
      while (!/[+/]/.test(standard(Buffer.from(reg.attestationObject, 'base64url')))) reg = registration({ format: 'none' });
      const clientData = Buffer.from(JSON.stringify({ ...(JSON.parse(Buffer.from(reg.clientDataJson, 'base64url').toString('utf8')) as object), note: '???~~~' }));
      expect(standard(clientData)).toMatch(/[+/]/);
      const fields = fieldsOf({ attestationObject: standard(Buffer.from(reg.attestationObject, 'base64url')), clientDataJson: standard(clientData) });
      for (const options of [OPTIONS, STRICT]) {
        const result = expectValid(preflight(fields, options));
        expect(result.record.attestationObject).toBe(reg.attestationObject);
        expect(result.record.clientDataJson).toBe(clientData.toString('base64url'));
        expect(result.record.credentialId).toBe(reg.credentialId);
        expect(result.warnings).toEqual([
          'attestationObject was standard base64 (+ /); sent as base64url',
          'clientDataJson was standard base64 (+ /); sent as base64url',
        ]);
      }
    });

    it('accepts padded base64url and sends it unpadded', () => {
      const reg = registration();
      const padded = `${reg.attestationObject}${'='.repeat((4 - (reg.attestationObject.length % 4)) % 4)}`;
      const result = expectValid(preflight(fieldsOf({ attestationObject: padded, clientDataJson: reg.clientDataJson }), OPTIONS));
      expect(result.record.attestationObject).toBe(reg.attestationObject);
    });

    it('rejects payloads that are not base64url', () => {
      const reg = registration();
      expect(expectInvalid(preflight(fieldsOf(reg, { attestationObject: `${reg.attestationObject.slice(0, 10)} ${reg.attestationObject.slice(10)}` }), OPTIONS)).reason).toBe(
        'attestationObject contains a space, which is not a base64url character',
      );
      expect(expectInvalid(preflight(fieldsOf(reg, { clientDataJson: `${reg.clientDataJson}!` }), OPTIONS)).reason).toBe("clientDataJson contains '!', which is not a base64url character");
      expect(expectInvalid(preflight(fieldsOf(reg, { attestationObject: 'a-b+' }), OPTIONS)).reason).toBe('attestationObject mixes base64url (- _) and standard base64 (+ /) characters');
      expect(expectInvalid(preflight(fieldsOf(reg, { attestationObject: 'abcde' }), OPTIONS)).reason).toMatch(/impossible length/);
    });

    it('rejects payloads over the size limits with their size', () => {
      const reg = registration();
      expect(expectInvalid(preflight(fieldsOf(reg, { attestationObject: 'A'.repeat(MAX_ATTESTATION_OBJECT_CHARS + 4) }), OPTIONS)).reason).toBe('attestationObject is 129 KiB; the limit is 128 KiB');
      expect(expectInvalid(preflight(fieldsOf(reg, { clientDataJson: 'A'.repeat(2 * 1024 * 1024) }), OPTIONS)).reason).toBe(
        `clientDataJson is 2.0 MB; the limit is ${MAX_CLIENT_DATA_CHARS / 1024} KiB`,
      );
    });
  });

  describe('clientDataJSON', () => {
    const reg = registration();
    const withClientData = (json: string) => preflight(fieldsOf(reg, { clientDataJson: b64url(json) }), OPTIONS);

    it('must be a JSON object with non-empty type, challenge and origin', () => {
      expect(expectInvalid(withClientData('not json')).reason).toMatch(/^clientDataJSON is not JSON \(/);
      expect(expectInvalid(withClientData('[1]')).reason).toBe('clientDataJSON is not a JSON object');
      expect(expectInvalid(withClientData('{"type":"webauthn.create","origin":"https://login.example.com"}')).reason).toBe(
        'clientDataJSON has no challenge (must be non-empty strings)',
      );
      expect(expectInvalid(withClientData('{"type":"","challenge":"abc"}')).reason).toBe('clientDataJSON has no type, origin (must be non-empty strings)');
      expect(expectInvalid(preflight(fieldsOf(reg, { clientDataJson: b64url(Buffer.from([0xff, 0xfe])) }), OPTIONS)).reason).toBe('clientDataJSON is not valid UTF-8');
    });

    it("warns when type is not 'webauthn.create', and rejects it under --strict", () => {
      const assertion = registration({ clientDataType: 'webauthn.get' });
      const message = "clientData type is 'webauthn.get', not 'webauthn.create': this is not a registration response";
      expect(expectValid(preflight(fieldsOf(assertion), OPTIONS)).warnings).toEqual([message]);
      const strict = expectInvalid(preflight(fieldsOf(assertion), STRICT));
      expect(strict.reason).toBe(`${message} (--strict)`);
      expect(strict.partial.credentialId).toBe(assertion.credentialId);
    });
  });

  describe('attestation object', () => {
    const reg = registration();
    const authData = authDataOf(reg);
    const withAuthData = (bytes: Uint8Array, options = OPTIONS) =>
      preflight(fieldsOf({ attestationObject: attestationWith({ fmt: 'none', attStmt: {}, authData: new Uint8Array(bytes) }), clientDataJson: reg.clientDataJson }), options);
    const withFlags = (flags: number) => {
      const copy = Buffer.from(authData);
      copy[32] = flags;
      return copy;
    };

    it('rebuilt from the parts of a real one, it still passes (the helpers below break only what they name)', () => {
      expect(expectValid(withAuthData(authData)).record.credentialId).toBe(reg.credentialId);
    });

    it('must be CBOR holding a map with fmt, attStmt and authData', () => {
      const check = (attestationObject: string) => expectInvalid(preflight(fieldsOf(reg, { attestationObject }), OPTIONS)).reason;
      expect(check(b64url(Buffer.from([0xff, 0x00])))).toMatch(/^attestationObject /);
      expect(check(attestationWith('text'))).toBe('attestationObject is not a CBOR map');
      expect(check(attestationWith({ attStmt: {}, authData: new Uint8Array(authData) }))).toBe('attestationObject has no fmt (text)');
      expect(check(attestationWith({ fmt: 'none', attStmt: 5, authData: new Uint8Array(authData) }))).toBe('attestationObject has no attStmt (map)');
      expect(check(attestationWith({ fmt: 'none', attStmt: {} }))).toBe('attestationObject has no authData (bytes)');
    });

    it('needs the AT flag and a complete attested credential', () => {
      expect(expectInvalid(withAuthData(withFlags(0x01))).reason).toBe('authData has no attested credential data (AT flag not set): this is not a registration');
      expect(expectInvalid(withAuthData(authData.subarray(0, 37))).reason).toMatch(/truncated/);
      expect(expectInvalid(withAuthData(authData.subarray(0, 60))).reason).toBe('authData is truncated: the credential id or its public key is incomplete');
      expect(expectInvalid(withAuthData(authData.subarray(0, authData.length - 5))).reason).toMatch(/^authData credential public key /);
      expect(expectInvalid(withAuthData(authData.subarray(0, 20))).reason).toMatch(/shorter than the 37-byte minimum/);
    });

    it('warns about a missing user-present flag and trailing bytes after the public key; --strict rejects them', () => {
      const noUp = withFlags(0x40 | 0x04);
      expect(expectValid(withAuthData(noUp)).warnings).toEqual(['authData user-present flag is not set']);
      expect(expectInvalid(withAuthData(noUp, STRICT)).reason).toBe('authData user-present flag is not set (--strict)');

      const trailing = Buffer.concat([authData, encodeCbor(0)]);
      expect(expectValid(withAuthData(trailing)).warnings).toEqual(['authData has 1 unexpected CBOR item(s) after the credential public key']);
      expect(expectInvalid(withAuthData(trailing, STRICT)).reason).toMatch(/unexpected CBOR item.*\(--strict\)$/);
    });
  });

  describe('--rp-id', () => {
    it('accepts a credential of that RP from its origin or a subdomain, and http://localhost for development', () => {
      expectValid(preflight(fieldsOf(registration({ rpId: 'example.com', origin: 'https://login.example.com' })), { ...OPTIONS, rpId: 'example.com' }));
      expectValid(preflight(fieldsOf(registration({ rpId: 'localhost', origin: 'http://localhost:3000' })), { ...OPTIONS, rpId: 'localhost' }));
      expectValid(preflight(fieldsOf(registration({ rpId: 'Example.COM', origin: 'https://EXAMPLE.com' })), { ...OPTIONS, rpId: 'Example.COM' }));
    });

    it('rejects a credential whose rpIdHash belongs to another relying party, keeping its credential id for the report', () => {
      const other = registration({ rpId: 'evil.example.net' });
      const result = expectInvalid(preflight(fieldsOf(other), { ...OPTIONS, rpId: 'login.example.com' }));
      expect(result.reason).toBe("rpIdHash is not SHA-256('login.example.com'): the credential was created for another relying party");
      expect(result.partial).toMatchObject({ credentialId: other.credentialId, userId: USER, tenantCode: 'ACME' });
    });

    it('rejects an origin off the RP ID, an insecure origin, or one that is not a URL', () => {
      const check = (origin: string) => expectInvalid(preflight(fieldsOf(registration({ origin })), { ...OPTIONS, rpId: 'login.example.com' })).reason;
      expect(check('https://login.example.com.evil.net')).toBe("clientData origin 'https://login.example.com.evil.net' is not on the RP ID 'login.example.com'");
      expect(check('https://example.com')).toMatch(/is not on the RP ID/);
      expect(check('http://login.example.com')).toBe("clientData origin 'http://login.example.com' is not https");
      expect(check('login.example.com')).toBe("clientData origin 'login.example.com' is not a URL");
    });

    it('does not check an Android app origin against the RP ID, and says so', () => {
      const origin = 'android:apk-key-hash:abcdefghijklmnopqrstuvwxyz0123456789';
      const result = expectValid(preflight(fieldsOf(registration({ origin })), { ...OPTIONS, rpId: 'login.example.com' }));
      expect(result.warnings).toEqual([`clientData origin '${origin}' is an Android app origin; not checked against --rp-id`]);
    });

    it('checks nothing about the RP without --rp-id', () => {
      expectValid(preflight(fieldsOf(registration({ rpId: 'anything.test', origin: 'http://elsewhere.test' })), OPTIONS));
    });
  });

  describe('optional fields', () => {
    const reg = registration();

    it("warns about an unknown state and rejects it under --strict; known states are lower-cased", () => {
      expect(expectValid(preflight(fieldsOf(reg, { state: 'SUSPENDED' }), STRICT)).record.state).toBe('suspended');
      expect(expectValid(preflight(fieldsOf(reg, { state: 'deleted' }), OPTIONS)).warnings).toEqual(["state 'deleted' is not active, suspended or revoked"]);
      expect(expectInvalid(preflight(fieldsOf(reg, { state: 'deleted' }), STRICT)).reason).toBe("state 'deleted' is not active, suspended or revoked (--strict)");
    });

    it('warns about a very long friendly name but keeps the record', () => {
      const name = 'n'.repeat(300);
      const result = expectValid(preflight(fieldsOf(reg, { friendlyName: name }), STRICT));
      expect(result.record.friendlyName).toBe(name);
      expect(result.warnings).toEqual(['friendlyName is 300 characters long']);
    });

    it('keeps what it could read of an invalid record for the report', () => {
      const result = expectInvalid(preflight({ userId: USER, friendlyName: 'Key', externalId: 'cms-9', state: 'active', attestationObject: reg.attestationObject }, OPTIONS));
      expect(result.reason).toBe('clientDataJson is missing');
      expect(result.partial).toEqual({ tenantCode: 'ACME', userId: USER, credentialId: null, friendlyName: 'Key', externalId: 'cms-9', state: 'active' });
    });
  });
});
