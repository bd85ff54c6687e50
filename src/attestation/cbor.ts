import { decode, decodeSequence } from 'cbor2';
import { fail, ok, type Result } from './result.js';

/**
 * Nesting a WebAuthn structure needs is small (attStmt.x5c is depth 3); a low cap keeps hostile
 * input from costing stack or time.
 */
const MAX_DEPTH = 32;

const OPTIONS = {
  maxDepth: MAX_DEPTH,
  // Every map decodes to a Map, so integer (COSE) and text keys are read the same way.
  preferMap: true,
  // Tags such as 1 (epoch date) would turn bytes into objects; nothing in WebAuthn uses them.
  ignoreGlobalTags: true,
  rejectDuplicateKeys: true,
} as const;

/** A decoded CBOR map: keys are numbers, strings or bigints as written. */
export type CborMap = Map<unknown, unknown>;

/**
 * Decodes exactly one CBOR item, definite or indefinite length. Trailing bytes are an error.
 * Never throws.
 */
export function decodeCbor(bytes: Uint8Array): Result<unknown> {
  if (bytes.length === 0) return fail('is empty (no CBOR data)');
  try {
    return ok(decode(bytes, OPTIONS));
  } catch (error: unknown) {
    return fail(explain(error));
  }
}

/** Decodes a CBOR sequence (RFC 8742): every item in order. Never throws. */
export function decodeCborSequence(bytes: Uint8Array): Result<unknown[]> {
  try {
    return ok([...decodeSequence(bytes, OPTIONS)]);
  } catch (error: unknown) {
    return fail(explain(error));
  }
}

export function isCborMap(value: unknown): value is CborMap {
  return value instanceof Map;
}

/** cbor2's messages describe its internals; these describe the data. */
function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/outside the bounds|Unexpected end|insufficient data|Not enough/i.test(message)) return 'CBOR data is truncated';
  if (/Extra data/i.test(message)) return 'has bytes after the end of the CBOR item';
  if (/depth/i.test(message)) return `CBOR nesting is deeper than ${MAX_DEPTH}`;
  if (/duplicate/i.test(message)) return 'CBOR map has a duplicate key';
  return `is not valid CBOR (${message})`;
}
