import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../../../src/sta/retry-after.js';

const NOW_MS = Date.parse('2025-06-01T12:00:00.000Z');

describe('parseRetryAfterMs: delay-seconds', () => {
  it.each([
    ['0', 0],
    ['1', 1_000],
    ['120', 120_000],
    ['  7 ', 7_000],
    ['007', 7_000],
  ])('reads %j as %d ms', (value, expectedMs) => {
    expect(parseRetryAfterMs(value, NOW_MS)).toBe(expectedMs);
  });

  it('does not depend on the clock', () => {
    expect(parseRetryAfterMs('3', 0)).toBe(3_000);
    expect(parseRetryAfterMs('3', NOW_MS)).toBe(3_000);
  });
});

describe('parseRetryAfterMs: HTTP-date (IMF-fixdate)', () => {
  it('gives the time until a date in the future', () => {
    expect(parseRetryAfterMs('Sun, 01 Jun 2025 12:00:30 GMT', NOW_MS)).toBe(30_000);
    expect(parseRetryAfterMs('Mon, 02 Jun 2025 12:00:00 GMT', NOW_MS)).toBe(86_400_000);
  });

  it('gives 0 for a date in the past or exactly now', () => {
    expect(parseRetryAfterMs('Sun, 01 Jun 2025 11:59:00 GMT', NOW_MS)).toBe(0);
    expect(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:37 GMT', NOW_MS)).toBe(0);
    expect(parseRetryAfterMs('Sun, 01 Jun 2025 12:00:00 GMT', NOW_MS)).toBe(0);
  });

  it('measures against the clock it is given', () => {
    const value = 'Sun, 01 Jun 2025 12:01:00 GMT';
    expect(parseRetryAfterMs(value, NOW_MS)).toBe(60_000);
    expect(parseRetryAfterMs(value, NOW_MS + 45_000)).toBe(15_000);
  });

  it('round-trips a date written by Date#toUTCString', () => {
    const at = new Date(NOW_MS + 90_000).toUTCString();
    expect(parseRetryAfterMs(at, NOW_MS)).toBe(90_000);
  });
});

describe('parseRetryAfterMs: junk and absent values', () => {
  it.each([
    [''],
    ['   '],
    ['-1'],
    ['1.5'],
    ['1e3'],
    ['+5'],
    ['soon'],
    ['Sun'],
    ['2025-06-01T12:00:30Z'],
    ['Xyz, 99 Foo 2025 99:99:99 GMT'],
    ['10 seconds'],
  ])('gives null for %j', (value) => {
    expect(parseRetryAfterMs(value, NOW_MS)).toBeNull();
  });

  it('gives null when the header is absent', () => {
    expect(parseRetryAfterMs(undefined, NOW_MS)).toBeNull();
    expect(parseRetryAfterMs(null, NOW_MS)).toBeNull();
  });
});

describe('parseRetryAfterMs: repeated headers (arrays)', () => {
  it('uses the first value', () => {
    expect(parseRetryAfterMs(['5', '60'], NOW_MS)).toBe(5_000);
    expect(parseRetryAfterMs(['Sun, 01 Jun 2025 12:00:10 GMT', '60'], NOW_MS)).toBe(10_000);
  });

  it('gives null for an empty array or a junk first value', () => {
    expect(parseRetryAfterMs([], NOW_MS)).toBeNull();
    expect(parseRetryAfterMs(['junk', '5'], NOW_MS)).toBeNull();
  });
});
