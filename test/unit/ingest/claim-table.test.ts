import { describe, expect, it } from 'vitest';
import { ClaimTable } from '../../../src/ingest/claim-table.js';

describe('ClaimTable', () => {
  it('gives each key to its first claimant and tells later ones who holds it', () => {
    const table = new ClaimTable(16);
    expect(table.claim('ACME\u0000cred-1', 10)).toBeUndefined();
    expect(table.claim('ACME\u0000cred-2', 20)).toBeUndefined();
    expect(table.claim('ACME\u0000cred-1', 30)).toBe(10);
    expect(table.claim('OTHER\u0000cred-1', 40)).toBeUndefined();
    expect(table.size).toBe(3);
  });

  it('keeps every claim through many doublings, with values above 2^32', () => {
    const table = new ClaimTable(16);
    const count = 50_000;
    for (let i = 0; i < count; i += 1) expect(table.claim(`key-${i}`, i * 2 ** 33 + i)).toBeUndefined();
    expect(table.size).toBe(count);
    for (let i = 0; i < count; i += 1) expect(table.claim(`key-${i}`, -1)).toBe(i * 2 ** 33 + i);
    expect(table.size).toBe(count);
  });
});
