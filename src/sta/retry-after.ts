/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date.
 *
 * @returns the delay in milliseconds (0 for a date in the past), or null when absent or unparseable.
 */
export function parseRetryAfterMs(value: string | readonly string[] | undefined | null, nowMs: number): number | null {
  const text: string | undefined | null = typeof value === 'string' || value == null ? value : value[0];
  if (typeof text !== 'string') return null;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only the IMF-fixdate family; Date.parse alone would also accept "1" or "2024".
  if (!/^[A-Za-z]{3},? /.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
