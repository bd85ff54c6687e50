/**
 * Small HTTP helpers for tests that talk to a real simulator (or any STA-shaped server) with
 * Node's global fetch.
 */
import { makeRegistration, type CredentialKeyPair, type SoftwareRegistration } from '../../fixtures/software-authenticator.js';

/** A response, read completely. `json` is undefined when the body is empty or not JSON. */
export interface SimReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

export interface SimRequestInit {
  readonly method?: string;
  /** Sent as header `apikey`; default 'sim-key'; null = no header. */
  readonly apiKey?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
}

/** Sends one request to `baseUrl + path` (path already encoded) and reads the whole answer. */
export async function simRequest(baseUrl: string, path: string, init: SimRequestInit = {}): Promise<SimReply> {
  const headers: Record<string, string> = { ...init.headers };
  const apiKey = init.apiKey === undefined ? 'sim-key' : init.apiKey;
  if (apiKey !== null) headers['apikey'] = apiKey;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method: init.method ?? 'GET', headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** `/api/v1/tenants/{t}/users/{u}/authenticators[/{a}]`, each id URL-encoded. */
export function authenticatorsPath(tenantCode: string, userId: string, authenticatorId?: string): string {
  const collection = `/api/v1/tenants/${encodeURIComponent(tenantCode)}/users/${encodeURIComponent(userId)}/authenticators`;
  return authenticatorId === undefined ? collection : `${collection}/${encodeURIComponent(authenticatorId)}`;
}

/** The API's POST body for a registration. */
export function createBody(registration: Pick<SoftwareRegistration, 'attestationObject' | 'clientDataJson'>, friendlyName?: string): unknown {
  return {
    type: 'FIDO',
    metadata: {
      attestation: { clientDataJson: registration.clientDataJson, attestationObject: registration.attestationObject },
      ...(friendlyName === undefined ? {} : { friendlyName }),
    },
  };
}

/** Standard base64 of a UTF-8 text: a convenient way to spell a user id. */
export function base64UserId(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The hex spelling of a base64 user id (the same user under `Object-Id-Format: hex`). */
export function hexOf(base64UserIdValue: string): string {
  return Buffer.from(base64UserIdValue, 'base64').toString('hex');
}

/** A fresh registration (unique credential id); pass a key pair to skip key generation. */
export function newRegistration(keyPair?: CredentialKeyPair): SoftwareRegistration {
  return makeRegistration(keyPair === undefined ? {} : { keyPair });
}

/** The `message` of an STA error body (or undefined). */
export function messageOf(reply: SimReply): unknown {
  return typeof reply.json === 'object' && reply.json !== null ? (reply.json as Record<string, unknown>)['message'] : undefined;
}
