import { createHash } from 'node:crypto';
import { parseAttestationObject } from './attestation-object.js';
import { decodeBase64Any, type Base64Flavour } from './base64url.js';
import { parseClientData, type ClientData } from './client-data.js';
import { fail, ok, type Result } from './result.js';

/** What a registration response says about the credential, read without verifying signatures. */
export interface RegistrationFacts {
  readonly fmt: string;
  /** STA's authenticator id: the credential id, unpadded base64url. */
  readonly credentialId: string;
  readonly aaguid: string;
  readonly alg: number;
  readonly signCount: number;
  /** SHA-256 of the RP ID, lower-case hex. */
  readonly rpIdHashHex: string;
  readonly userPresent: boolean;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly clientData: ClientData;
  /** Canonical unpadded base64url of both payloads, as STA must receive them. */
  readonly attestationObject: string;
  readonly clientDataJson: string;
  /** Which payloads were written in standard base64 and were converted. */
  readonly convertedFromStandardBase64: readonly ('attestationObject' | 'clientDataJson')[];
  /** Bytes after the public key and extensions inside authData (0 when well formed). */
  readonly authDataTrailingBytes: number;
}

export interface RegistrationInput {
  readonly attestationObject: string;
  readonly clientDataJson: string;
}

/** Decodes both halves of a registration response. Pure and total: never throws. */
export function inspectRegistration(input: RegistrationInput): Result<RegistrationFacts> {
  const attestation = decodeBase64Any(input.attestationObject);
  if (!attestation.ok) return fail(`attestationObject ${attestation.reason}`);
  const clientDataBytes = decodeBase64Any(input.clientDataJson);
  if (!clientDataBytes.ok) return fail(`clientDataJson ${clientDataBytes.reason}`);

  const parsed = parseAttestationObject(attestation.value.bytes);
  if (!parsed.ok) return parsed;
  const clientData = parseClientData(clientDataBytes.value.bytes);
  if (!clientData.ok) return clientData;

  const { authData, fmt } = parsed.value;
  const credential = authData.credential;
  if (!credential) return fail('authData has no attested credential');
  const converted: ('attestationObject' | 'clientDataJson')[] = [];
  if (attestation.value.flavour === ('standard' satisfies Base64Flavour)) converted.push('attestationObject');
  if (clientDataBytes.value.flavour === 'standard') converted.push('clientDataJson');
  return ok({
    fmt,
    credentialId: credential.credentialIdB64url,
    aaguid: credential.aaguid,
    alg: credential.alg,
    signCount: authData.signCount,
    rpIdHashHex: Buffer.from(authData.rpIdHash).toString('hex'),
    userPresent: authData.flags.userPresent,
    userVerified: authData.flags.userVerified,
    backupEligible: authData.flags.backupEligible,
    clientData: clientData.value,
    attestationObject: attestation.value.canonical,
    clientDataJson: clientDataBytes.value.canonical,
    convertedFromStandardBase64: converted,
    authDataTrailingBytes: authData.trailingBytes,
  });
}

/** SHA-256 of an RP ID as lower-case hex, to compare with {@link RegistrationFacts.rpIdHashHex}. */
export function rpIdHashHex(rpId: string): string {
  return createHash('sha256').update(rpId, 'utf8').digest('hex');
}
