import { inspectRegistration } from '../attestation/index.js';
import type { CreateBody } from './request-bodies.js';
import type { SimulatorStore, StoredAuthenticator } from './store.js';

/** Outcome of storing a POSTed (or seeded) registration. */
export type ImportOutcome =
  | { readonly kind: 'created'; readonly record: StoredAuthenticator }
  | { readonly kind: 'undecodable'; readonly reason: string }
  | { readonly kind: 'duplicate'; readonly id: string };

/** Where the new authenticator goes and how it is labelled. */
export interface ImportTarget {
  readonly tenantCode: string;
  /** Canonical base64. */
  readonly userId: string;
  readonly provenance: 'imported' | 'inline';
  readonly createdDateTime: string;
}

/**
 * Decodes the registration and stores it as a `pending` FIDO authenticator whose id is the
 * credential id from authData. Signatures, the attestation statement and clientData `type` are NOT
 * verified (the document's own sample carries a `webauthn.get` clientData and must be accepted);
 * only the CBOR and clientData JSON have to decode.
 */
export function importAuthenticator(store: SimulatorStore, target: ImportTarget, body: CreateBody): ImportOutcome {
  const inspected = inspectRegistration({ attestationObject: body.attestationObject, clientDataJson: body.clientDataJson });
  if (!inspected.ok) return { kind: 'undecodable', reason: inspected.reason };
  const facts = inspected.value;
  // Checked before building the record so a duplicate costs one Map lookup.
  if (store.findById(target.tenantCode, facts.credentialId) !== undefined) return { kind: 'duplicate', id: facts.credentialId };
  const record: StoredAuthenticator = {
    userId: target.userId,
    id: facts.credentialId,
    type: 'FIDO',
    state: 'pending',
    lastUsedAuthnDateTime: null,
    lastSuccessAuthnDateTime: null,
    createdDateTime: target.createdDateTime,
    metadata: {
      aaguid: facts.aaguid,
      friendlyName: body.friendlyName,
      rpId: rpIdFromOrigin(facts.clientData.origin),
      signatureCounter: facts.signCount,
      coseAlgoId: facts.alg,
      provenance: target.provenance,
    },
  };
  store.add(target.tenantCode, record);
  return { kind: 'created', record };
}

/**
 * The RP ID STA reports: the host of clientData's origin (`https://my.rp.com` → `my.rp.com`), or
 * the origin itself when it is not a URL with a host (e.g. `android:apk-key-hash:…`).
 */
export function rpIdFromOrigin(origin: string): string {
  if (!URL.canParse(origin)) return origin;
  const hostname = new URL(origin).hostname;
  return hostname === '' ? origin : hostname;
}
