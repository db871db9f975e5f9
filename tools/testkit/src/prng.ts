import { endianness } from 'node:os';

// Generated words are stored little-endian so a seed means the same bytes on every host.
const BIG_ENDIAN = endianness() === 'BE';
const TWO_POW_32 = 2 ** 32;

/**
 * A seeded xorshift128 generator (Marsaglia 2003). Not cryptographic: it exists so tests and
 * benchmarks get the same bytes for the same seed, at memory speed rather than byte by byte.
 */
export class Prng {
  #x: number;
  #y: number;
  #z: number;
  #w: number;

  /** @param seed any integer; it is expanded with splitmix32 so that nearby seeds diverge at once. */
  constructor(seed: number) {
    // splitmix32 never yields an all-zero state, which would make xorshift emit zeros forever.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    // State is kept as int32 (see fill); the bits are what matter.
    this.#x = next() | 0;
    this.#y = next() | 0;
    this.#z = next() | 0;
    this.#w = next() | 0;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const t = this.#x ^ (this.#x << 11);
    this.#x = this.#y;
    this.#y = this.#z;
    this.#z = this.#w;
    this.#w = (this.#w ^ (this.#w >>> 19) ^ t ^ (t >>> 8)) | 0;
    return this.#w >>> 0;
  }

  /** An integer in [0, bound); bound must be at most 2^32. Multiply-shift keeps the bias below 2^-32 · bound. */
  below(bound: number): number {
    return Math.floor((this.nextUint32() / TWO_POW_32) * bound);
  }

  /** An integer in [min, max) whose logarithm is uniform: sizes spread like real file sizes. */
  logUniform(min: number, max: number): number {
    const u = this.nextUint32() / TWO_POW_32;
    return Math.floor(Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))));
  }

  /**
   * Fills `target` with the next bytes of the stream. Bytes come from whole words, so filling
   * n bytes then m bytes equals filling n + m bytes only when n is a multiple of 4.
   */
  fill(target: Uint8Array): void {
    const words = target.byteLength >>> 2;
    // A Uint32Array view needs 4-byte alignment; pooled Buffers are not always aligned.
    const aligned = target.byteOffset % 4 === 0;
    // Int32Array and `| 0` keep every value a small integer in V8; uint32 values above 2^31
    // would box as doubles and run about four times slower.
    const view = aligned ? new Int32Array(target.buffer, target.byteOffset, words) : new Int32Array(words);
    let x = this.#x;
    let y = this.#y;
    let z = this.#z;
    let w = this.#w;
    for (let i = 0; i < words; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) | 0;
      view[i] = w;
    }
    this.#x = x;
    this.#y = y;
    this.#z = z;
    this.#w = w;
    const bytes = new Uint8Array(view.buffer, view.byteOffset, words * 4);
    if (BIG_ENDIAN) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap32();
    if (!aligned) target.set(bytes);
    const tail = target.byteLength - words * 4;
    if (tail > 0) {
      const last = this.nextUint32();
      for (let i = 0; i < tail; i++) target[words * 4 + i] = (last >>> (8 * i)) & 0xff;
    }
  }
}
