/**
 * The hand-written CBOR decoder against cbor2 (a complete, conformant decoder) as the oracle:
 * random well-formed items must decode to the same values, random bytes must never make ours
 * throw, and where cbor2 accepts bytes ours must agree.
 */
import { decode as oracleDecode, encode, Simple, Tag } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../fixtures/seeded-random.js';
import { CborSimple, CborTag, decodeCbor, decodeCborSequence, MAX_CBOR_DEPTH } from '../../../src/attestation/cbor.js';

/** Makes cbor2's output comparable: Buffers as plain bytes, maps as Maps. */
function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) return new Map([...value.entries()].map(([k, v]) => [normalise(k), normalise(v)]));
  if (value instanceof CborTag) return { tag: value.tag, value: normalise(value.value) };
  if (value instanceof CborSimple) return { simple: value.value };
  if (value instanceof Tag) return { tag: Number(value.tag), value: normalise(value.contents) };
  if (value instanceof Simple) return { simple: value.value };
  return value;
}

function randomItem(random: SeededRandom, depth: number): unknown {
  const kind = random.int(depth > 3 ? 8 : 11);
  switch (kind) {
    case 0:
      return random.int(2 ** 31) * (random.next() < 0.5 ? -1 : 1);
    case 1:
      return [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32, 2 ** 53 - 1, -1, -24, -25, -(2 ** 53)][random.int(13)];
    case 2:
      return [0.5, -1.5, 3.4028234663852886e38, 1e300, Number.NaN, Infinity, -Infinity][random.int(7)];
    case 3:
      return String.fromCodePoint(...Array.from({ length: random.int(40) }, () => [0x41 + random.int(26), 0xe9, 0x20ac, 0x1f600][random.int(4)] ?? 0x41));
    case 4:
      return new Uint8Array(Array.from({ length: random.int(300) }, () => random.int(256)));
    case 5:
      return [true, false, null, undefined][random.int(4)];
    case 6:
      return BigInt(2) ** BigInt(60 + random.int(4));
    case 7:
      return -(BigInt(2) ** BigInt(60 + random.int(4)));
    case 8:
      return Array.from({ length: random.int(6) }, () => randomItem(random, depth + 1));
    case 9: {
      const map = new Map<unknown, unknown>();
      for (let i = random.int(6); i > 0; i -= 1) map.set(random.next() < 0.5 ? random.int(1000) - 500 : `k${random.int(1000)}`, randomItem(random, depth + 1));
      return map;
    }
    default: {
      const map = new Map<unknown, unknown>();
      for (let i = random.int(4); i > 0; i -= 1) map.set(`s${random.int(100)}`, randomItem(random, depth + 1));
      return map;
    }
  }
}

/** Re-encodes a definite-length encoding with every map, array and string made indefinite. */
function indefinite(value: unknown): Uint8Array {
  if (value instanceof Map) {
    const parts = [...value.entries()].flatMap(([k, v]) => [indefinite(k), indefinite(v)]);
    return Buffer.concat([Buffer.from([0xbf]), ...parts, Buffer.from([0xff])]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from([0x9f]), ...value.map(indefinite), Buffer.from([0xff])]);
  if (value instanceof Uint8Array && value.length > 1) {
    const half = Math.floor(value.length / 2);
    return Buffer.concat([Buffer.from([0x5f]), encode(value.slice(0, half)), encode(value.slice(half)), Buffer.from([0xff])]);
  }
  if (typeof value === 'string' && value.length > 1) {
    return Buffer.concat([Buffer.from([0x7f]), encode(value.slice(0, 1)), encode(value.slice(1)), Buffer.from([0xff])]);
  }
  return encode(value);
}

describe('CBOR decoder', () => {
  it('decodes 2000 random definite-length items exactly as cbor2 does', () => {
    const random = new SeededRandom(20261204);
    for (let i = 0; i < 2000; i += 1) {
      const item = randomItem(random, 0);
      const bytes = encode(item);
      const ours = decodeCbor(bytes);
      expect(ours.ok, `item ${i}`).toBe(true);
      if (ours.ok) expect(normalise(ours.value)).toEqual(normalise(oracleDecode(bytes, { preferMap: true })));
    }
  });

  it('decodes the same items written with indefinite lengths everywhere', () => {
    const random = new SeededRandom(7);
    for (let i = 0; i < 1000; i += 1) {
      const item = randomItem(random, 0);
      if (typeof item === 'string' && /[\uD800-\uDFFF]/.test(item)) continue; // splitting would cut a surrogate pair
      const bytes = indefinite(item);
      const ours = decodeCbor(bytes);
      expect(ours.ok, `item ${i}`).toBe(true);
      if (ours.ok) expect(normalise(ours.value)).toEqual(normalise(oracleDecode(bytes, { preferMap: true })));
    }
  });

  it('never throws on random bytes, and agrees with cbor2 whenever cbor2 accepts them', () => {
    const random = new SeededRandom(99);
    let accepted = 0;
    for (let i = 0; i < 20_000; i += 1) {
      const bytes = new Uint8Array(Array.from({ length: 1 + random.int(24) }, () => random.int(256)));
      const ours = decodeCbor(bytes);
      let oracle: { ok: true; value: unknown } | { ok: false };
      try {
        oracle = { ok: true, value: oracleDecode(bytes, { preferMap: true, rejectDuplicateKeys: true, ignoreGlobalTags: true, maxDepth: MAX_CBOR_DEPTH }) };
      } catch {
        oracle = { ok: false };
      }
      if (oracle.ok) {
        accepted += 1;
        expect(ours.ok, Buffer.from(bytes).toString('hex')).toBe(true);
        if (ours.ok) expect(normalise(ours.value)).toEqual(normalise(oracle.value));
      }
    }
    expect(accepted).toBeGreaterThan(200);
  });

  it('keeps tags and unassigned simple values as values', () => {
    const tagged = decodeCbor(Buffer.from('c11a514b67b0', 'hex'));
    expect(tagged.ok && tagged.value).toEqual(new CborTag(1, 1363896240));
    const simple = decodeCbor(Buffer.from('f0', 'hex'));
    expect(simple.ok && simple.value).toEqual(new CborSimple(16));
  });

  it('rejects malformed input with a reason', () => {
    const reason = (hex: string) => {
      const result = decodeCbor(Buffer.from(hex, 'hex'));
      return result.ok ? null : result.reason;
    };
    expect(reason('ff')).toContain('break');
    expect(reason('1c')).toContain('reserved');
    expect(reason('5f4101ff00')).toBe('has bytes after the end of the CBOR item');
    expect(reason('5f6161ff')).toContain('another type');
    expect(reason('5f5f4101ffff')).toContain('nested');
    expect(reason('62c328')).toContain('UTF-8');
    expect(reason('9b00000000ffffffff')).toBe('CBOR data is truncated');
    expect(reason('a2616101616102')).toBe('CBOR map has a duplicate key');
    expect(reason('81'.repeat(MAX_CBOR_DEPTH + 2) + '00')).toContain('deeper');
    expect(reason('1f')).toContain('indefinite-length integer');
  });

  it('reads a CBOR sequence item by item', () => {
    const sequence = decodeCborSequence(Buffer.from('a1010201f6', 'hex'));
    expect(sequence).toEqual({ ok: true, value: [new Map([[1, 2]]), 1, null] });
    expect(decodeCborSequence(Buffer.from('a101', 'hex')).ok).toBe(false);
  });
});
