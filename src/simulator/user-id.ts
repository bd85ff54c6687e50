import type { ObjectIdFormat } from '../sta/documented-messages.js';

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EVEN_HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/**
 * The identity of a user is the bytes of its id: this returns the canonical standard base64 of
 * those bytes, or null when `userId` is not well formed for `format`.
 *
 * base64: strict standard alphabet with padding, length a multiple of 4, and canonical (unused
 * bits of the last character zero — otherwise two spellings would name one user). hex: an even
 * number of hex digits, either case.
 */
export function canonicalUserId(userId: string, format: ObjectIdFormat): string | null {
  if (userId === '') return null;
  if (format === 'hex') return EVEN_HEX.test(userId) ? Buffer.from(userId, 'hex').toString('base64') : null;
  if (!STRICT_BASE64.test(userId)) return null;
  return Buffer.from(userId, 'base64').toString('base64') === userId ? userId : null;
}

/** Characters of an authenticator id (unpadded base64url). */
export const BASE64URL_ID = /^[A-Za-z0-9_-]+$/;
