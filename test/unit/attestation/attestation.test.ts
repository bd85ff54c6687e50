import { createHash } from 'node:crypto';
import { encode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64Any,
  decodeBase64Url,
  decodeCbor,
  inspectRegistration,
  parseAttestationObject,
  parseAuthData,
  parseClientData,
  rpIdHashHex,
} from '../../../src/attestation/index.js';
import { makeRegistration } from '../../../fixtures/software-authenticator.js';

const b64url = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');

/** authData with an attested credential: rpIdHash ‖ flags ‖ signCount ‖ aaguid ‖ idLen ‖ id ‖ COSE key [‖ extensions]. */
function authData(options: { flags?: number; credentialId?: Buffer; coseKey?: Uint8Array; extensions?: Uint8Array; signCount?: number } = {}): Buffer {
  const id = options.credentialId ?? Buffer.alloc(16, 7);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(options.signCount ?? 42);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(id.length);
  return Buffer.concat([
    createHash('sha256').update('example.com').digest(),
    Buffer.from([options.flags ?? 0x45]),
    count,
    Buffer.from('f8a011f38c0a4d15800617111f9edc7d', 'hex'),
    idLength,
    id,
    Buffer.from(options.coseKey ?? encode(new Map<number, number>([[1, 2], [3, -7], [-1, 1]]))),
    Buffer.from(options.extensions ?? []),
  ]);
}

describe('base64url', () => {
  it('decodes padded and unpadded base64url, and standard base64 with its flavour', () => {
    const url = decodeBase64Any('AQID');
    expect(url.ok && url.value.flavour).toBe('url');
    const standard = decodeBase64Any('+/8=');
    expect(standard.ok && standard.value.flavour).toBe('standard');
    expect(standard.ok && standard.value.canonical).toBe('-_8');
    expect(decodeBase64Url('-_8=').ok).toBe(true);
  });

  it('rejects characters outside the alphabet, naming them', () => {
    const result = decodeBase64Any('abc!');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain("'!'");
    const control = decodeBase64Any('ab\u0001c');
    expect(!control.ok && control.reason).toContain('U+0001');
  });

  it('rejects mixed alphabets and impossible lengths', () => {
    expect(decodeBase64Any('a-b+').ok).toBe(false);
    expect(decodeBase64Any('abcde').ok).toBe(false);
    expect(decodeBase64Url('ab+c').ok).toBe(false);
  });
});

describe('CBOR', () => {
  it('decodes definite- and indefinite-length maps alike', () => {
    const definite = decodeCbor(Buffer.from('a163666d74646e6f6e65', 'hex')); // {"fmt": "none"}
    const indefinite = decodeCbor(Buffer.from('bf63666d74646e6f6e65ff', 'hex'));
    expect(definite.ok && definite.value).toEqual(new Map([['fmt', 'none']]));
    expect(indefinite.ok && indefinite.value).toEqual(new Map([['fmt', 'none']]));
  });

  it('decodes indefinite-length byte strings and arrays', () => {
    const bytes = decodeCbor(Buffer.from('5f4101410203ff', 'hex').subarray(0, 6));
    expect(bytes.ok).toBe(false);
    const chunked = decodeCbor(Buffer.from('5f41014102ff', 'hex'));
    expect(chunked.ok && Buffer.from(chunked.value as Uint8Array).toString('hex')).toBe('0102');
    const array = decodeCbor(Buffer.from('9f0102ff', 'hex'));
    expect(array.ok && array.value).toEqual([1, 2]);
  });

  it('explains truncation, trailing bytes, duplicate keys and deep nesting without throwing', () => {
    expect(decodeCbor(Buffer.from('a1', 'hex'))).toEqual({ ok: false, reason: 'CBOR data is truncated' });
    expect(decodeCbor(Buffer.from('0102', 'hex'))).toEqual({ ok: false, reason: 'has bytes after the end of the CBOR item' });
    expect(decodeCbor(Buffer.from('a201020103', 'hex'))).toEqual({ ok: false, reason: 'CBOR map has a duplicate key' });
    const deep = decodeCbor(Buffer.alloc(100_000, 0x81));
    expect(deep.ok).toBe(false);
    expect(decodeCbor(new Uint8Array()).ok).toBe(false);
  });
});

describe('authenticator data', () => {
  it('reads flags, counter, AAGUID, credential id and the COSE algorithm', () => {
    const parsed = parseAuthData(authData({ credentialId: Buffer.from('credential-id-01'), signCount: 7 }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.signCount).toBe(7);
    expect(parsed.value.flags).toMatchObject({ userPresent: true, userVerified: true, attestedCredentialData: true, extensionData: false });
    expect(parsed.value.credential).toMatchObject({ aaguid: 'f8a011f3-8c0a-4d15-8006-17111f9edc7d', credentialIdB64url: b64url(Buffer.from('credential-id-01')), alg: -7, kty: 2 });
    expect(parsed.value.trailingBytes).toBe(0);
  });

  it('reads past an extensions map when the ED flag is set', () => {
    const parsed = parseAuthData(authData({ flags: 0xc5, extensions: encode(new Map([['credProtect', 2]])) }));
    expect(parsed.ok && parsed.value.trailingBytes).toBe(0);
  });

  it('counts CBOR items after the key when ED is not set', () => {
    const parsed = parseAuthData(authData({ extensions: encode(new Map([['x', 1]])) }));
    expect(parsed.ok && parsed.value.trailingBytes).toBe(1);
  });

  it('rejects data that is not a complete registration', () => {
    const reason = (bytes: Buffer) => {
      const parsed = parseAuthData(bytes);
      return parsed.ok ? null : parsed.reason;
    };
    expect(reason(Buffer.alloc(10))).toContain('shorter than the 37-byte minimum');
    expect(reason(authData({ flags: 0x05 }))).toContain('AT flag not set');
    expect(reason(authData().subarray(0, 60))).toContain('truncated');
    expect(reason(authData({ credentialId: Buffer.alloc(0) }))).toContain('empty credential id');
    expect(reason(authData({ coseKey: encode(new Map([[1, 2]])) }))).toContain('no integer kty (1) and alg (3)');
    expect(reason(authData({ coseKey: encode([1, 2]) }))).toContain('not a CBOR map');
    expect(reason(authData({ flags: 0xc5 }))).toContain('ED flag is set');
  });

  it('rejects credential ids over 1023 bytes', () => {
    const parsed = parseAuthData(authData({ credentialId: Buffer.alloc(1024, 1) }));
    expect(!parsed.ok && parsed.reason).toContain('1023');
  });
});

describe('clientDataJSON', () => {
  const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('reads type, challenge, origin and crossOrigin', () => {
    const parsed = parseClientData(encodeJson({ type: 'webauthn.create', challenge: 'abc', origin: 'https://example.com', crossOrigin: false }));
    expect(parsed).toEqual({ ok: true, value: { type: 'webauthn.create', challenge: 'abc', origin: 'https://example.com', crossOrigin: false } });
  });

  it('names what is wrong', () => {
    const reason = (bytes: Buffer) => {
      const parsed = parseClientData(bytes);
      return parsed.ok ? null : parsed.reason;
    };
    expect(reason(Buffer.from([0xff, 0xfe]))).toContain('not valid UTF-8');
    expect(reason(Buffer.from('{nope'))).toContain('not JSON');
    expect(reason(Buffer.from('[1]'))).toContain('not a JSON object');
    expect(reason(encodeJson({ type: 'webauthn.create' }))).toBe('clientDataJSON has no challenge, origin (must be non-empty strings)');
    expect(reason(Buffer.alloc(0))).toContain('empty');
  });
});

describe('attestation object', () => {
  it('requires fmt, attStmt and authData', () => {
    const parsed = parseAttestationObject(encode(new Map<string, unknown>([['fmt', 'none']])));
    expect(!parsed.ok && parsed.reason).toBe('attestationObject has no attStmt (map), authData (bytes)');
    const notMap = parseAttestationObject(encode([1]));
    expect(!notMap.ok && notMap.reason).toBe('attestationObject is not a CBOR map');
  });

  it('accepts the map keys in any order (non-canonical encoders)', () => {
    const object = encode(new Map<string, unknown>([['authData', new Uint8Array(authData())], ['attStmt', new Map()], ['fmt', 'none']]));
    expect(parseAttestationObject(object).ok).toBe(true);
  });
});

describe('inspectRegistration', () => {
  it('decodes a software authenticator registration to the facts STA needs', () => {
    const registration = makeRegistration({ rpId: 'login.example.com', aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8', signCount: 5 });
    const inspected = inspectRegistration(registration);
    expect(inspected.ok).toBe(true);
    if (!inspected.ok) return;
    expect(inspected.value).toMatchObject({
      fmt: 'packed',
      credentialId: registration.credentialId,
      aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
      alg: -7,
      signCount: 5,
      rpIdHashHex: rpIdHashHex('login.example.com'),
      attestationObject: registration.attestationObject,
      clientDataJson: registration.clientDataJson,
      convertedFromStandardBase64: [],
    });
    expect(inspected.value.clientData.type).toBe('webauthn.create');
  });

  it('converts standard base64 payloads to canonical base64url and says so', () => {
    const registration = makeRegistration({ format: 'none' });
    const standard = Buffer.from(registration.attestationObject, 'base64url').toString('base64');
    const inspected = inspectRegistration({ attestationObject: standard, clientDataJson: registration.clientDataJson });
    expect(inspected.ok && inspected.value.attestationObject).toBe(registration.attestationObject);
    expect(inspected.ok && inspected.value.convertedFromStandardBase64).toEqual(standard.includes('+') || standard.includes('/') ? ['attestationObject'] : []);
  });

  it('decodes an attestation object written with indefinite-length maps (as in the API document’s sample)', () => {
    const registration = makeRegistration({ format: 'packed' });
    const original = decodeCbor(Buffer.from(registration.attestationObject, 'base64url'));
    expect(original.ok).toBe(true);
    if (!original.ok) return;
    const map = original.value as Map<string, unknown>;
    const attStmt = map.get('attStmt') as Map<string, unknown>;
    // 0xBF … 0xFF: indefinite-length maps at both levels, as the document's sample is written.
    const indefinite = Buffer.concat([
      Buffer.from([0xbf]),
      encode('fmt'),
      encode('packed'),
      encode('attStmt'),
      Buffer.from([0xbf]),
      ...[...attStmt.entries()].flatMap(([key, value]) => [encode(key), encode(value instanceof Uint8Array ? new Uint8Array(value) : value)]),
      Buffer.from([0xff]),
      encode('authData'),
      encode(new Uint8Array(map.get('authData') as Uint8Array)),
      Buffer.from([0xff]),
    ]);
    const inspected = inspectRegistration({ attestationObject: b64url(indefinite), clientDataJson: registration.clientDataJson });
    expect(inspected.ok && inspected.value.credentialId).toBe(registration.credentialId);
  });
});

describe('canonical base64url', () => {
  it('keeps canonical text as is and re-encodes padded or non-canonical text', () => {
    const check = (text: string) => {
      const decoded = decodeBase64Any(text);
      return decoded.ok ? decoded.value.canonical : null;
    };
    expect(check('AQID')).toBe('AQID');
    expect(check('AQ')).toBe('AQ');
    expect(check('AQ==')).toBe('AQ');
    expect(check('AR')).toBe('AQ'); // same byte, stray bits set
    expect(check('AQI')).toBe('AQI');
    expect(check('AQJ')).toBe('AQI');
  });
});
