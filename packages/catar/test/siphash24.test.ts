import { describe, expect, it } from 'vitest';
import { CA_FORMAT_GOODBYE_HASH_KEY, siphash24 } from '../src/index.js';

// Reference vectors of the SipHash paper (Aumasson & Bernstein, appendix A; the `vectors.h`
// of the reference implementation): key 00 01 .. 0f, message 00 01 .. (n-1).
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
const vectors: [number, bigint][] = [
  [0, 0x726fdb47dd0e0e31n],
  [1, 0x74f839c593dc67fdn],
  [2, 0x0d6c8009d9a94f5an],
  [3, 0x85676696d7fb7e2dn],
  [7, 0xab0200f58b01d137n],
  [8, 0x93f5f5799a932462n],
  [15, 0xa129ca6149be45e5n],
  [16, 0x3f2acc7f57c29bdbn],
  [63, 0x958a324ceb064572n],
];

describe('siphash24', () => {
  it.each(vectors)('matches the reference vector for a %i-byte message', (n, expected) => {
    expect(siphash24(message(n), key)).toBe(expected);
  });

  it('hashes names as casync does for goodbye items', () => {
    // Measured: the goodbye hashes casync 2+20201210 wrote for entries named "a" and "sub".
    const enc = new TextEncoder();
    expect(siphash24(enc.encode('a'), CA_FORMAT_GOODBYE_HASH_KEY)).toBe(0x51ba5a19e058c7adn);
    expect(siphash24(enc.encode('sub'), CA_FORMAT_GOODBYE_HASH_KEY)).toBe(0xebfe935698c3deecn);
  });

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const big = Uint8Array.from({ length: 40 }, (_, i) => (i + 200) % 256);
    big.set(message(15), 10);
    expect(siphash24(big.subarray(10, 25), key)).toBe(0xa129ca6149be45e5n);
  });

  it('refuses a key that is not 16 bytes', () => {
    expect(() => siphash24(message(1), new Uint8Array(8))).toThrow(RangeError);
  });
});
