import { fail, ok, type Result } from './result.js';

/** The members of CollectedClientData (WebAuthn §5.8.1) that a migration checks. */
export interface ClientData {
  readonly type: string;
  readonly challenge: string;
  readonly origin: string;
  readonly crossOrigin: boolean | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses clientDataJSON bytes: strict UTF-8, a JSON object with string type, challenge, origin. Never throws. */
export function parseClientData(bytes: Uint8Array): Result<ClientData> {
  if (bytes.length === 0) return fail('clientDataJSON is empty');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('clientDataJSON is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error: unknown) {
    return fail(`clientDataJSON is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('clientDataJSON is not a JSON object');
  const record = parsed as Record<string, unknown>;
  const missing = ['type', 'challenge', 'origin'].filter((key) => typeof record[key] !== 'string' || record[key] === '');
  if (missing.length > 0) return fail(`clientDataJSON has no ${missing.join(', ')} (must be non-empty strings)`);
  return ok({
    type: record['type'] as string,
    challenge: record['challenge'] as string,
    origin: record['origin'] as string,
    crossOrigin: typeof record['crossOrigin'] === 'boolean' ? record['crossOrigin'] : null,
  });
}
