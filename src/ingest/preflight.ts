import { inspectRegistration, rpIdHashHex, type RegistrationFacts } from '../attestation/registration.js';
import type { ObjectIdFormat } from '../sta/documented-messages.js';
import type { CanonicalFields } from './fields.js';

export interface PreflightOptions {
  /** When set, rpIdHash must be SHA-256(rpId) and the clientData origin must belong to it. */
  readonly rpId: string | null;
  /** Warnings that mean "probably not what STA expects" become errors. */
  readonly strict: boolean;
  /** STA_TENANT: for records without tenantCode. */
  readonly defaultTenant: string | null;
  readonly objectIdFormat: ObjectIdFormat;
}

/** A record ready to be sent to STA. */
export interface PreflightedRecord {
  readonly tenantCode: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly friendlyName: string | null;
  readonly externalId: string | null;
  readonly state: string | null;
  /** Canonical base64url, as STA must receive them. */
  readonly attestationObject: string;
  readonly clientDataJson: string;
  readonly facts: RegistrationFacts;
}

/** What the report can show of a record that failed pre-flight. */
export interface PartialRecord {
  readonly tenantCode: string | null;
  readonly userId: string | null;
  readonly credentialId: string | null;
  readonly friendlyName: string | null;
  readonly externalId: string | null;
  readonly state: string | null;
}

export type PreflightResult =
  | { readonly ok: true; readonly record: PreflightedRecord; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly partial: PartialRecord; readonly warnings: readonly string[] };

/** Limits on payload text, far above real registrations (a TPM chain is ~6 KB) and far below harm. */
export const MAX_ATTESTATION_OBJECT_CHARS = 128 * 1024;
export const MAX_CLIENT_DATA_CHARS = 16 * 1024;
export const MAX_FRIENDLY_NAME_CHARS = 256;
const STATES = new Set(['active', 'suspended', 'revoked']);

/**
 * Checks one record before STA sees it: required fields, encodings, the attestation object's CBOR
 * and authenticator data, clientDataJSON, and (with an RP ID) that the credential belongs to that
 * relying party. Pure: no I/O, never throws.
 */
export function preflight(fields: CanonicalFields, options: PreflightOptions): PreflightResult {
  const warnings: string[] = [];
  const text = (name: keyof CanonicalFields): { value: string | null; problem: string | null } => {
    const value = fields[name];
    if (value === undefined || value === null) return { value: null, problem: null };
    if (typeof value === 'string') return { value: value.trim() === '' ? null : value.trim(), problem: null };
    if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value), problem: null };
    return { value: null, problem: `${name} is ${Array.isArray(value) ? 'an array' : 'an object'}, not text` };
  };
  const userId = text('userId');
  const tenant = text('tenantCode');
  const friendlyName = text('friendlyName');
  const externalId = text('externalId');
  const state = text('state');
  const attestationObject = text('attestationObject');
  const clientDataJson = text('clientDataJson');
  const tenantCode = tenant.value ?? options.defaultTenant;
  const partial: PartialRecord = {
    tenantCode,
    userId: userId.value,
    credentialId: null,
    friendlyName: friendlyName.value,
    externalId: externalId.value,
    state: state.value,
  };
  const invalid = (reason: string): PreflightResult => ({ ok: false, reason, partial, warnings });

  const typeProblem = [userId, tenant, friendlyName, externalId, state, attestationObject, clientDataJson].find((field) => field.problem !== null);
  if (typeProblem?.problem) return invalid(typeProblem.problem);
  if (userId.value === null) return invalid('userId is missing');
  const userIdProblem = checkUserId(userId.value, options.objectIdFormat);
  if (userIdProblem) return invalid(userIdProblem);
  if (tenantCode === null) return invalid('tenantCode is missing and STA_TENANT is not set');
  if (/[/?#\s]/.test(tenantCode)) return invalid(`tenantCode '${tenantCode}' contains a space, '/', '?' or '#'`);
  if (attestationObject.value === null) return invalid('attestationObject is missing');
  if (clientDataJson.value === null) return invalid('clientDataJson is missing');
  if (attestationObject.value.length > MAX_ATTESTATION_OBJECT_CHARS) {
    return invalid(`attestationObject is ${formatSize(attestationObject.value.length)}; the limit is ${formatSize(MAX_ATTESTATION_OBJECT_CHARS)}`);
  }
  if (clientDataJson.value.length > MAX_CLIENT_DATA_CHARS) {
    return invalid(`clientDataJson is ${formatSize(clientDataJson.value.length)}; the limit is ${formatSize(MAX_CLIENT_DATA_CHARS)}`);
  }

  const inspected = inspectRegistration({ attestationObject: attestationObject.value, clientDataJson: clientDataJson.value });
  if (!inspected.ok) return invalid(inspected.reason);
  const facts = inspected.value;
  const withCredential: PartialRecord = { ...partial, credentialId: facts.credentialId };
  const reject = (reason: string): PreflightResult => ({ ok: false, reason, partial: withCredential, warnings });
  const warnOrReject = (message: string): PreflightResult | null => {
    if (options.strict) return reject(`${message} (--strict)`);
    warnings.push(message);
    return null;
  };

  for (const field of facts.convertedFromStandardBase64) warnings.push(`${field} was standard base64 (+ /); sent as base64url`);
  if (facts.clientData.type !== 'webauthn.create') {
    const problem = warnOrReject(`clientData type is '${facts.clientData.type}', not 'webauthn.create': this is not a registration response`);
    if (problem) return problem;
  }
  if (facts.authDataTrailingBytes > 0) {
    const problem = warnOrReject(`authData has ${facts.authDataTrailingBytes} unexpected CBOR item(s) after the credential public key`);
    if (problem) return problem;
  }
  if (!facts.userPresent) {
    const problem = warnOrReject('authData user-present flag is not set');
    if (problem) return problem;
  }
  if (options.rpId !== null) {
    if (facts.rpIdHashHex !== rpIdHashHex(options.rpId)) {
      return reject(`rpIdHash is not SHA-256('${options.rpId}'): the credential was created for another relying party`);
    }
    if (facts.clientData.origin.startsWith('android:apk-key-hash:')) {
      warnings.push(`clientData origin '${truncate(facts.clientData.origin)}' is an Android app origin; not checked against --rp-id`);
    } else {
      const originProblem = checkOrigin(facts.clientData.origin, options.rpId);
      if (originProblem) return reject(originProblem);
    }
  }
  if (friendlyName.value !== null && friendlyName.value.length > MAX_FRIENDLY_NAME_CHARS) {
    warnings.push(`friendlyName is ${friendlyName.value.length} characters long`);
  }
  if (state.value !== null && !STATES.has(state.value.toLowerCase())) {
    const problem = warnOrReject(`state '${state.value}' is not active, suspended or revoked`);
    if (problem) return problem;
  }

  return {
    ok: true,
    record: {
      tenantCode,
      userId: userId.value,
      credentialId: facts.credentialId,
      friendlyName: friendlyName.value,
      externalId: externalId.value,
      state: state.value === null ? null : state.value.toLowerCase(),
      attestationObject: facts.attestationObject,
      clientDataJson: facts.clientDataJson,
      facts,
    },
    warnings,
  };
}

/** STA user ids: strict standard base64 (with padding), or hex, per STA_OBJECT_ID_FORMAT. */
function checkUserId(userId: string, format: ObjectIdFormat): string | null {
  if (format === 'hex') {
    return /^(?:[0-9a-fA-F]{2})+$/.test(userId) ? null : `userId '${truncate(userId)}' is not hex (STA_OBJECT_ID_FORMAT=hex)`;
  }
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(userId) && userId.length % 4 === 0) return null;
  const hint = /[-_]/.test(userId) ? '; it looks base64url (- _): STA expects standard base64 (+ /)' : '';
  return `userId '${truncate(userId)}' is not base64 (STA_OBJECT_ID_FORMAT=base64)${hint}`;
}

/**
 * The origin must be the RP ID's own https origin or a subdomain's (WebAuthn §5.1.4.1);
 * http://localhost is allowed for development.
 */
function checkOrigin(origin: string, rpId: string): string | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `clientData origin '${truncate(origin)}' is not a URL`;
  }
  const host = url.hostname.toLowerCase();
  const rp = rpId.toLowerCase();
  const onRp = host === rp || host.endsWith(`.${rp}`);
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && host === 'localhost');
  if (!onRp) return `clientData origin '${truncate(origin)}' is not on the RP ID '${rpId}'`;
  if (!secure) return `clientData origin '${truncate(origin)}' is not https`;
  return null;
}

/** Rounded up: a size just over a limit must not read as the limit itself. */
function formatSize(chars: number): string {
  if (chars >= 1024 * 1024) return `${(Math.ceil((chars * 10) / (1024 * 1024)) / 10).toFixed(1)} MB`;
  return `${Math.ceil(chars / 1024)} KiB`;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
