import { encodeBase64Url } from './base64url.js';
import { decodeCborSequence, isCborMap } from './cbor.js';
import { readCoseKey } from './cose.js';
import { fail, ok, type Result } from './result.js';

/** Authenticator data flags (WebAuthn §6.1). */
export interface AuthDataFlags {
  readonly userPresent: boolean;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly attestedCredentialData: boolean;
  readonly extensionData: boolean;
  readonly byte: number;
}

export interface AttestedCredential {
  /** Lower-case dashed UUID; all zeros for authenticators that do not disclose a model. */
  readonly aaguid: string;
  readonly credentialId: Uint8Array;
  /** The credential id as unpadded base64url: STA's authenticator id. */
  readonly credentialIdB64url: string;
  /** COSE key type of the credential public key. */
  readonly kty: number;
  /** COSE algorithm of the credential public key, e.g. -7. */
  readonly alg: number;
}

export interface AuthData {
  readonly rpIdHash: Uint8Array;
  readonly flags: AuthDataFlags;
  /** Signature counter: 32-bit unsigned. */
  readonly signCount: number;
  /** Present when the AT flag is set and the data is complete. */
  readonly credential: AttestedCredential | null;
  /** Number of bytes after the credential public key and extensions; 0 in well-formed data. */
  readonly trailingBytes: number;
}

const FIXED_LENGTH = 37; // rpIdHash 32 + flags 1 + signCount 4
const ATTESTED_HEADER_LENGTH = 18; // aaguid 16 + credentialIdLength 2
/** WebAuthn Level 3 caps credential ids at 1023 bytes. */
export const MAX_CREDENTIAL_ID_BYTES = 1023;

/**
 * Parses authenticator data. Requires the attested credential data (a registration), since only a
 * registration can be imported into STA. Never throws.
 */
export function parseAuthData(bytes: Uint8Array): Result<AuthData> {
  if (bytes.length < FIXED_LENGTH) return fail(`authData is ${bytes.length} bytes, shorter than the 37-byte minimum`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flagsByte = bytes[32] ?? 0;
  const flags: AuthDataFlags = {
    userPresent: (flagsByte & 0x01) !== 0,
    userVerified: (flagsByte & 0x04) !== 0,
    backupEligible: (flagsByte & 0x08) !== 0,
    backedUp: (flagsByte & 0x10) !== 0,
    attestedCredentialData: (flagsByte & 0x40) !== 0,
    extensionData: (flagsByte & 0x80) !== 0,
    byte: flagsByte,
  };
  const base = { rpIdHash: bytes.slice(0, 32), flags, signCount: view.getUint32(33) };
  if (!flags.attestedCredentialData) {
    return fail('authData has no attested credential data (AT flag not set): this is not a registration');
  }
  if (bytes.length < FIXED_LENGTH + ATTESTED_HEADER_LENGTH) {
    return fail('authData is truncated inside the attested credential data header');
  }
  const aaguid = formatUuid(bytes.subarray(37, 53));
  const credentialIdLength = view.getUint16(53);
  if (credentialIdLength === 0) return fail('authData has an empty credential id');
  if (credentialIdLength > MAX_CREDENTIAL_ID_BYTES) {
    return fail(`authData credential id length is ${credentialIdLength} bytes, over the ${MAX_CREDENTIAL_ID_BYTES}-byte limit`);
  }
  const idStart = FIXED_LENGTH + ATTESTED_HEADER_LENGTH;
  const idEnd = idStart + credentialIdLength;
  if (bytes.length <= idEnd) return fail('authData is truncated: the credential id or its public key is incomplete');
  const credentialId = bytes.slice(idStart, idEnd);

  const items = decodeCborSequence(bytes.subarray(idEnd));
  if (!items.ok) return fail(`authData credential public key ${items.reason}`);
  const [publicKey, ...rest] = items.value;
  if (!isCborMap(publicKey)) return fail('authData credential public key is not a CBOR map (COSE_Key)');
  const cose = readCoseKey(publicKey);
  if (!cose) return fail('authData credential public key has no integer kty (1) and alg (3)');
  let trailing = rest;
  if (flags.extensionData) {
    const [extensions, ...after] = rest;
    if (!isCborMap(extensions)) return fail('authData ED flag is set but no extensions map follows the public key');
    trailing = after;
  }
  return ok({
    ...base,
    credential: {
      aaguid,
      credentialId,
      credentialIdB64url: encodeBase64Url(credentialId),
      kty: cose.kty,
      alg: cose.alg,
    },
    trailingBytes: trailing.length,
  });
}

function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
