import type { CborMap } from './cbor.js';

/** COSE key labels (RFC 9052 §7.1). */
const LABEL_KTY = 1;
const LABEL_ALG = 3;

/** Names of the COSE algorithms seen on FIDO authenticators, for messages and reports. */
export const COSE_ALGORITHM_NAMES: Readonly<Record<number, string>> = {
  [-7]: 'ES256',
  [-8]: 'EdDSA',
  [-35]: 'ES384',
  [-36]: 'ES512',
  [-37]: 'PS256',
  [-38]: 'PS384',
  [-39]: 'PS512',
  [-47]: 'ES256K',
  [-48]: 'ML-DSA-44',
  [-49]: 'ML-DSA-65',
  [-50]: 'ML-DSA-87',
  [-257]: 'RS256',
  [-258]: 'RS384',
  [-259]: 'RS512',
  [-65535]: 'RS1',
};

export interface CoseKeyFacts {
  /** COSE key type: 1 OKP, 2 EC2, 3 RSA, 7 AKP (post-quantum). */
  readonly kty: number;
  /** COSE algorithm id, e.g. -7 for ES256. */
  readonly alg: number;
}

/** Reads kty and alg from a decoded COSE_Key; null when either is missing or not an integer. */
export function readCoseKey(key: CborMap): CoseKeyFacts | null {
  const kty = key.get(LABEL_KTY);
  const alg = key.get(LABEL_ALG);
  if (typeof kty !== 'number' || typeof alg !== 'number') return null;
  if (!Number.isInteger(kty) || !Number.isInteger(alg)) return null;
  return { kty, alg };
}

export function coseAlgorithmName(alg: number): string {
  return COSE_ALGORITHM_NAMES[alg] ?? `COSE ${alg}`;
}
