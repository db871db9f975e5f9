import { describe, expect, it } from 'vitest';
import { Prng } from '../src/index.js';

describe('Prng', () => {
  it('gives the same sequence for the same seed and a different one for a nearby seed', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('fills bytes as the little-endian words nextUint32 would return', () => {
    const bytes = Buffer.alloc(16);
    new Prng(3).fill(bytes);
    const words = new Prng(3);
    for (let i = 0; i < 4; i++) expect(bytes.readUInt32LE(i * 4)).toBe(words.nextUint32());
  });

  it('fills an unaligned view with the same bytes as an aligned one', () => {
    const aligned = Buffer.alloc(37);
    const backing = Buffer.alloc(38);
    new Prng(5).fill(aligned);
    new Prng(5).fill(backing.subarray(1));
    expect(backing.subarray(1).equals(aligned)).toBe(true);
    expect(backing[0]).toBe(0);
  });

  it('keeps below() and logUniform() within their bounds', () => {
    const prng = new Prng(11);
    for (let i = 0; i < 10_000; i++) {
      const n = prng.below(10);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(10);
      const size = prng.logUniform(256, 4096);
      expect(size).toBeGreaterThanOrEqual(256);
      expect(size).toBeLessThan(4096);
    }
  });
});
