import { fail, ok, type Result } from './result.js';

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const BASE64_STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;

/** How a base64 text was written; `url` is what STA expects. */
export type Base64Flavour = 'url' | 'standard';

/** A base64 text decoded strictly, with the flavour it used. */
export interface DecodedBase64 {
  readonly bytes: Uint8Array;
  /** The same bytes as canonical unpadded base64url (what STA is sent). */
  readonly canonical: string;
  readonly flavour: Base64Flavour;
}

/**
 * Decodes base64url (padded or not) and, leniently, standard base64 (`+`, `/`), which CMS exports
 * often use. Node's own decoder skips invalid characters silently, so the alphabet is checked first.
 */
export function decodeBase64Any(text: string): Result<DecodedBase64> {
  let flavour: Base64Flavour;
  if (BASE64URL.test(text)) flavour = 'url';
  else if (BASE64_STANDARD.test(text)) flavour = 'standard';
  else {
    const bad = /[^A-Za-z0-9_\-+/=]/u.exec(text)?.[0];
    if (bad !== undefined) return fail(`contains ${describeChar(bad)}, which is not a base64url character`);
    if (/=[^=]/.test(text)) return fail("has '=' padding before the end");
    return fail('mixes base64url (- _) and standard base64 (+ /) characters');
  }
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return fail(`has an impossible length for base64 (${text.length} characters)`);
  const bytes = new Uint8Array(Buffer.from(unpadded, flavour === 'url' ? 'base64url' : 'base64'));
  // Already canonical (base64url, no padding, zero unused bits) — the common case — needs no
  // re-encoding.
  const canonical = flavour === 'url' && unpadded.length === text.length && unusedBitsClear(text) ? text : encodeBase64Url(bytes);
  return ok({ bytes, canonical, flavour });
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The bits the last character carries beyond the data are zero (as an encoder writes them). */
function unusedBitsClear(text: string): boolean {
  const rest = text.length % 4;
  if (rest === 0) return true;
  const value = ALPHABET.indexOf(text[text.length - 1] ?? 'A');
  return rest === 2 ? value % 16 === 0 : value % 4 === 0;
}

/** Strict base64url only (padding tolerated): the check STA applies to ids and payloads. */
export function isBase64Url(text: string): boolean {
  return BASE64URL.test(text) && text.replace(/=+$/, '').length % 4 !== 1;
}

export function decodeBase64Url(text: string): Result<Uint8Array> {
  if (!isBase64Url(text)) return fail('is not base64url encoded');
  return ok(new Uint8Array(Buffer.from(text.replace(/=+$/, ''), 'base64url')));
}

/** Canonical unpadded base64url. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  if (ch === ' ') return 'a space';
  return `'${ch}'`;
}
