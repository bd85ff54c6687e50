/**
 * The outcome of a pure check: a value, or the reason it could not be produced.
 * Expected bad input is a value, not an exception (see STYLE.md).
 */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(reason: string): Result<T> {
  return { ok: false, reason };
}
