import { parseAuthData, type AuthData } from './auth-data.js';
import { decodeCbor, isCborMap, type CborMap } from './cbor.js';
import { fail, ok, type Result } from './result.js';

export interface AttestationObject {
  /** Attestation statement format, e.g. "packed", "none", "tpm". */
  readonly fmt: string;
  readonly attStmt: CborMap;
  readonly authData: AuthData;
}

/**
 * Decodes a CBOR attestation object (definite or indefinite-length maps) and its authData.
 * Never throws.
 */
export function parseAttestationObject(bytes: Uint8Array): Result<AttestationObject> {
  const decoded = decodeCbor(bytes);
  if (!decoded.ok) return fail(`attestationObject ${decoded.reason}`);
  const top = decoded.value;
  if (!isCborMap(top)) return fail('attestationObject is not a CBOR map');
  const fmt = top.get('fmt');
  const attStmt = top.get('attStmt');
  const authDataBytes = top.get('authData');
  const missing = [
    typeof fmt === 'string' && fmt !== '' ? null : 'fmt (text)',
    isCborMap(attStmt) ? null : 'attStmt (map)',
    authDataBytes instanceof Uint8Array ? null : 'authData (bytes)',
  ].filter((name): name is string => name !== null);
  if (missing.length > 0) return fail(`attestationObject has no ${missing.join(', ')}`);
  const authData = parseAuthData(authDataBytes as Uint8Array);
  if (!authData.ok) return authData;
  return ok({ fmt: fmt as string, attStmt: attStmt as CborMap, authData: authData.value });
}
