import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAllZero, zeroChunkDigest, zeroRunEnd } from '../src/zero-bytes.js';

describe('zeroRunEnd', () => {
  it('stops at the 4 KiB step holding the first non-zero byte, or at the end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40_000 }), fc.nat(), fc.nat(), (length, from, spot) => {
        const buf = new Uint8Array(length);
        const start = length === 0 ? 0 : from % (length + 1);
        const nonZero = length === 0 ? -1 : spot % (length + 4096);
        if (nonZero >= 0 && nonZero < length) buf[nonZero] = 1;
        const end = zeroRunEnd(buf, start, length);
        expect(isAllZero(buf, start, length - start)).toBe(end === length);
        expect(buf.subarray(start, end).every((b) => b === 0)).toBe(true);
        if (nonZero >= start && nonZero < length) {
          // The step holding the byte is not taken: the end is that step's start.
          expect(end).toBeLessThanOrEqual(nonZero);
          expect(end).toBeGreaterThan(nonZero - 4096);
        } else {
          expect(end).toBe(length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('zeroChunkDigest', () => {
  it('is the SHA512/256 of that many zero bytes', () => {
    for (const size of [1, 4095, 4096, 65_536, 262_144, 300_001]) {
      const want = createHash('sha512-256').update(Buffer.alloc(size)).digest();
      expect(zeroChunkDigest(size).equals(want)).toBe(true);
      expect(zeroChunkDigest(size).equals(want)).toBe(true); // kept
    }
  });
});
