import { hash } from 'node:crypto';

/**
 * A set of credentials for a dry run, in typed arrays: each claim is a 96-bit digest of its key
 * plus one number (the packed source of its first holder) — 20 bytes, against ~100 for a Map of
 * strings, so a dry run of millions of records keeps a small heap. Open addressing with linear
 * probing; grows at half full. (A real run keeps claims in Redis, exactly.)
 *
 * 96 bits make a false "duplicate" among 10⁷ claims about 10⁻¹⁵ likely.
 */
export class ClaimTable {
  #capacity: number;
  #size = 0;
  /** Three 32-bit words of digest per slot; all zero = empty (a zero digest is remapped). */
  #digests: Uint32Array;
  #values: Float64Array;

  constructor(initialCapacity = 1024) {
    this.#capacity = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.#digests = new Uint32Array(this.#capacity * 3);
    this.#values = new Float64Array(this.#capacity);
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Claims `key` for `value` if nobody has.
   *
   * @returns undefined when this call claimed it, else the value of the first claim.
   */
  claim(key: string, value: number): number | undefined {
    const digest = hash('sha256', key, 'buffer');
    let a = digest.readUInt32LE(0);
    const b = digest.readUInt32LE(4);
    const c = digest.readUInt32LE(8);
    if (a === 0 && b === 0 && c === 0) a = 1;
    for (let slot = a & (this.#capacity - 1); ; slot = (slot + 1) & (this.#capacity - 1)) {
      const at = slot * 3;
      const x = this.#digests[at];
      const y = this.#digests[at + 1];
      const z = this.#digests[at + 2];
      if (x === 0 && y === 0 && z === 0) {
        this.#digests[at] = a;
        this.#digests[at + 1] = b;
        this.#digests[at + 2] = c;
        this.#values[slot] = value;
        this.#size += 1;
        if (this.#size * 2 > this.#capacity) this.#grow();
        return undefined;
      }
      if (x === a && y === b && z === c) return this.#values[slot];
    }
  }

  #grow(): void {
    const oldDigests = this.#digests;
    const oldValues = this.#values;
    const oldCapacity = this.#capacity;
    this.#capacity *= 2;
    this.#digests = new Uint32Array(this.#capacity * 3);
    this.#values = new Float64Array(this.#capacity);
    for (let slot = 0; slot < oldCapacity; slot += 1) {
      const at = slot * 3;
      const a = oldDigests[at] ?? 0;
      const b = oldDigests[at + 1] ?? 0;
      const c = oldDigests[at + 2] ?? 0;
      if (a === 0 && b === 0 && c === 0) continue;
      let target = a & (this.#capacity - 1);
      while ((this.#digests[target * 3] ?? 0) !== 0 || (this.#digests[target * 3 + 1] ?? 0) !== 0 || (this.#digests[target * 3 + 2] ?? 0) !== 0) {
        target = (target + 1) & (this.#capacity - 1);
      }
      this.#digests[target * 3] = a;
      this.#digests[target * 3 + 1] = b;
      this.#digests[target * 3 + 2] = c;
      this.#values[target] = oldValues[slot] ?? 0;
    }
  }
}
