import { STA_MESSAGES } from '../sta/documented-messages.js';
import { BASE64URL_ID } from './user-id.js';

/** A body check's outcome: the value, or the documented message of the 400. */
export type BodyResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** The parts of a POST body the simulator uses. */
export interface CreateBody {
  readonly attestationObject: string;
  readonly clientDataJson: string;
  readonly friendlyName: string;
  /** Only the control seeding route reads it; undefined when absent. */
  readonly provenance: unknown;
}

/** The parts of a PATCH body; undefined = not to change. */
export interface PatchBody {
  readonly state: string | undefined;
  readonly friendlyName: string | undefined;
}

/** JSON.parse that returns undefined (not a throw) for an empty or invalid body. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Absent or null, as a .NET model binder sees an optional property. */
function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

const nullAuthenticator = { ok: false, message: STA_MESSAGES.authenticatorNull } as const;

/**
 * Validates a POST body. Decisions: invalid JSON, an empty body, `null`, a non-object, a missing
 * `metadata.attestation` object, and members of the wrong JSON type (`friendlyName: 3`,
 * `type: {}`) all answer "Authenticator cannot be null." — that is what an ASP.NET action sees when
 * System.Text.Json cannot bind the body. `type` is otherwise ignored (the API only handles FIDO).
 * A missing or non-string attestationObject / clientDataJson, or one with characters outside
 * [A-Za-z0-9_-] (padding, `+`, `/`), answers its "is not base64URL encoded." message;
 * attestationObject is checked first.
 */
export function parseCreateBody(body: Buffer): BodyResult<CreateBody> {
  const root = asRecord(parseJsonBody(body));
  const metadata = asRecord(root?.['metadata']);
  const attestation = asRecord(metadata?.['attestation']);
  if (root === undefined || metadata === undefined || attestation === undefined) return nullAuthenticator;
  const friendlyName = metadata['friendlyName'];
  if (!isAbsent(friendlyName) && typeof friendlyName !== 'string') return nullAuthenticator;
  if (!isAbsent(root['type']) && typeof root['type'] !== 'string') return nullAuthenticator;
  const attestationObject = attestation['attestationObject'];
  if (typeof attestationObject !== 'string' || !BASE64URL_ID.test(attestationObject)) {
    return { ok: false, message: STA_MESSAGES.attestationObjectNotBase64Url };
  }
  const clientDataJson = attestation['clientDataJson'];
  if (typeof clientDataJson !== 'string' || !BASE64URL_ID.test(clientDataJson)) {
    return { ok: false, message: STA_MESSAGES.clientDataJsonNotBase64Url };
  }
  return { ok: true, value: { attestationObject, clientDataJson, friendlyName: friendlyName ?? '', provenance: root['provenance'] } };
}

/**
 * Validates a PATCH body: a JSON object whose `state` is a string (or absent/null) and whose
 * `metadata` is an object (or absent/null) with a string (or absent/null) `friendlyName`; anything
 * else is "Authenticator cannot be null." (the body does not bind). The state VALUE is judged
 * later, against the stored state.
 */
export function parsePatchBody(body: Buffer): BodyResult<PatchBody> {
  const root = asRecord(parseJsonBody(body));
  if (root === undefined) return nullAuthenticator;
  const state = root['state'];
  if (!isAbsent(state) && typeof state !== 'string') return nullAuthenticator;
  const rawMetadata = root['metadata'];
  const metadata = asRecord(rawMetadata);
  if (!isAbsent(rawMetadata) && metadata === undefined) return nullAuthenticator;
  const friendlyName = metadata?.['friendlyName'];
  if (!isAbsent(friendlyName) && typeof friendlyName !== 'string') return nullAuthenticator;
  return { ok: true, value: { state: state ?? undefined, friendlyName: friendlyName ?? undefined } };
}
