import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundaryScanner, type ChunkSizes, chunkSizesOf, DEFAULT_CHUNK_SIZES } from '../src/index.js';
import { chunkerInputArb, chunkSizesArb } from './arbitraries.js';
import { referenceChunkSizes } from './casync-reference.js';
import { Prng, randomBytes } from './testkit.js';

const KiB = 1024;

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Seeded bytes whose first chunk, by casync's reference chunker, has the wanted length. */
function findInput(length: number, sizes: ChunkSizes, wantFirst: number): Uint8Array {
  for (let seed = 1; seed < 100_000; seed++) {
    const data = randomBytes(length, seed);
    if (referenceChunkSizes(data, sizes)[0] === wantFirst) return data;
  }
  throw new Error(`no seed gives a first chunk of ${wantFirst}`);
}

describe('chunkSizesOf', () => {
  it('finds casync’s boundaries for any input and any valid sizes', () => {
    fc.assert(
      fc.property(chunkerInputArb, chunkSizesArb, (data, sizes) => {
        expect(chunkSizesOf(data, sizes)).toEqual(referenceChunkSizes(data, sizes));
      }),
      { numRuns: 1000 },
    );
  });

  it('covers the input with chunks within casync’s limits', () => {
    fc.assert(
      fc.property(chunkerInputArb, chunkSizesArb, (data, sizes) => {
        const chunks = chunkSizesOf(data, sizes);
        expect(sum(chunks)).toBe(data.length);
        const fixed = sizes.min === sizes.max;
        // The window is filled before any cut, so no chunk but the last is below 48 bytes
        // unless the chunker is fixed-size.
        const least = fixed ? sizes.max : Math.max(sizes.min, 48);
        const most = fixed ? sizes.max : Math.max(sizes.max, 48);
        for (const c of chunks.slice(0, -1)) {
          expect(c).toBeGreaterThanOrEqual(least);
          expect(c).toBeLessThanOrEqual(most);
        }
        if (chunks.length > 0) expect(chunks[chunks.length - 1]).toBeLessThanOrEqual(most);
      }),
      { numRuns: 200 },
    );
  });

  it('finds no chunks in empty input', () => {
    expect(chunkSizesOf(new Uint8Array(0), DEFAULT_CHUNK_SIZES)).toEqual([]);
    expect(referenceChunkSizes(new Uint8Array(0), DEFAULT_CHUNK_SIZES)).toEqual([]);
  });

  it('makes one chunk of an input shorter than min', () => {
    for (const length of [1, 47, 48, 49, 100, 16 * KiB - 1]) {
      expect(chunkSizesOf(randomBytes(length, length), DEFAULT_CHUNK_SIZES)).toEqual([length]);
    }
  });

  it('cuts exactly at min when the hash matches at the first allowed byte', () => {
    const sizes = { min: 100, avg: 200, max: 1000 };
    const data = findInput(400, sizes, 100);
    expect(chunkSizesOf(data, sizes)[0]).toBe(100);
    expect(chunkSizesOf(data, sizes)).toEqual(referenceChunkSizes(data, sizes));
  });

  it('ignores a hash match one byte before min', () => {
    // Same discriminator (150) with and without the minimum: a cut at 99 without it is a
    // hash match that min = 100 must skip.
    const free = { min: 1, avg: 200, max: 1000 };
    const sizes = { min: 100, avg: 200, max: 1000 };
    const data = findInput(400, free, 99);
    expect(chunkSizesOf(data, free)[0]).toBe(99);
    expect(chunkSizesOf(data, sizes)[0]).toBeGreaterThan(99);
    expect(chunkSizesOf(data, sizes)).toEqual(referenceChunkSizes(data, sizes));
  });

  it('cuts a run with no boundary at max', () => {
    // A repeated 7-byte pattern: the rolling hash cycles through 7 values, none of them a cut.
    const pattern = [1, 2, 3, 4, 5, 6, 7];
    const data = Uint8Array.from({ length: 1000 * KiB }, (_, i) => pattern[i % 7]);
    const expected = referenceChunkSizes(data, DEFAULT_CHUNK_SIZES);
    expect(expected).toEqual([256 * KiB, 256 * KiB, 256 * KiB, 232 * KiB]);
    expect(chunkSizesOf(data, DEFAULT_CHUNK_SIZES)).toEqual(expected);
  });

  it('cuts all-zero data into max-size chunks and a remainder', () => {
    const data = new Uint8Array(3 * 256 * KiB + 5);
    expect(chunkSizesOf(data, DEFAULT_CHUNK_SIZES)).toEqual([256 * KiB, 256 * KiB, 256 * KiB, 5]);
    expect(referenceChunkSizes(data, DEFAULT_CHUNK_SIZES)).toEqual([256 * KiB, 256 * KiB, 256 * KiB, 5]);
    // With min 1 the zero window's hash is tested at byte 48 on: sizes only decide where.
    for (const sizes of [
      { min: 1, avg: 4, max: 64 },
      { min: 48, avg: 64, max: 200 },
    ]) {
      expect(chunkSizesOf(data.subarray(0, 5000), sizes)).toEqual(
        referenceChunkSizes(data.subarray(0, 5000), sizes),
      );
    }
  });

  it('ends with the remaining bytes as the last chunk, even below min', () => {
    const data = randomBytes(300 * KiB, 7);
    const chunks = chunkSizesOf(data, DEFAULT_CHUNK_SIZES);
    expect(chunks).toEqual(referenceChunkSizes(data, DEFAULT_CHUNK_SIZES));
    const last = chunks[chunks.length - 1];
    expect(sum(chunks.slice(0, -1)) + last).toBe(data.length);
    // Take a prefix that ends 10 bytes into the last chunk: that short tail is a chunk too.
    const prefix = data.subarray(0, sum(chunks.slice(0, -1)) + 10);
    expect(chunkSizesOf(prefix, DEFAULT_CHUNK_SIZES)).toEqual([...chunks.slice(0, -1), 10]);
  });

  it('cuts fixed-size chunks when min == avg == max, even below the window size', () => {
    const data = randomBytes(1000, 3);
    expect(chunkSizesOf(data, { min: 10, avg: 10, max: 10 })).toEqual(Array(100).fill(10));
    expect(chunkSizesOf(data, { min: 300, avg: 300, max: 300 })).toEqual([300, 300, 300, 100]);
    expect(chunkSizesOf(data, { min: 1, avg: 1, max: 1 })).toHaveLength(1000);
  });

  it('fills the 48-byte window before cutting when max is below it', () => {
    const data = randomBytes(1000, 4);
    expect(chunkSizesOf(data, { min: 1, avg: 2, max: 4 })).toEqual([...Array(20).fill(48), 40]);
    expect(referenceChunkSizes(data, { min: 1, avg: 2, max: 4 })).toEqual([...Array(20).fill(48), 40]);
  });

  it('tests no boundary before byte 48 when min is below the window', () => {
    // min 1, avg 4: the discriminator is 3, so a cut comes soon after the window is full.
    const data = randomBytes(4000, 5);
    const chunks = chunkSizesOf(data, { min: 1, avg: 4, max: 64 });
    expect(Math.min(...chunks.slice(0, -1))).toBeGreaterThanOrEqual(48);
    expect(chunks).toEqual(referenceChunkSizes(data, { min: 1, avg: 4, max: 64 }));
  });

  it('cuts rarely once avg passes 9.32 MB, where casync’s discriminator becomes max', () => {
    // With the discriminator at min (1) every byte after the window would be a cut.
    const data = randomBytes(20 * KiB, 6);
    const sizes = { min: 1, avg: 10_000_000, max: 10_000_000 };
    expect(chunkSizesOf(data, sizes)).toEqual([20 * KiB]);
    expect(referenceChunkSizes(data, sizes)).toEqual([20 * KiB]);
  });
});

describe('BoundaryScanner', () => {
  it('gives the same boundaries at any offset in a buffer, fed any number of bytes at a time', () => {
    fc.assert(
      fc.property(
        chunkerInputArb,
        chunkSizesArb,
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 5000 }),
        (data, sizes, pad, step) => {
          // The chunk sits after `pad` unrelated bytes, which the scanner must not read.
          const buf = new Uint8Array(pad + data.length).fill(0xa5);
          buf.set(data, pad);
          const scanner = new BoundaryScanner(sizes);
          const found: number[] = [];
          let start = pad;
          let end = pad;
          while (start < buf.length) {
            end = Math.min(buf.length, end + step);
            for (;;) {
              const n = scanner.scan(buf, start, end);
              if (n < 0) break;
              found.push(n);
              start += n;
            }
            if (end === buf.length && start < end) {
              found.push(end - start);
              start = end;
            }
          }
          expect(found).toEqual(chunkSizesOf(data, sizes));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forgets a chunk in progress on reset()', () => {
    const sizes = { min: 64, avg: 256, max: 1024 };
    const a = randomBytes(2000, 11);
    const b = randomBytes(2000, 12);
    const scanner = new BoundaryScanner(sizes);
    // Half a chunk of `a`, then reset: scanning `b` must not carry a's hash or length.
    expect(scanner.scan(a, 0, 60)).toBe(-1);
    scanner.reset();
    const first = scanner.scan(b, 0, b.length);
    expect(first).toBe(referenceChunkSizes(b, sizes)[0]);
  });

  it('exposes the sizes it was made with', () => {
    expect(new BoundaryScanner(DEFAULT_CHUNK_SIZES).sizes).toBe(DEFAULT_CHUNK_SIZES);
  });

  it('matches the reference chunker on long seeded inputs of default sizes', () => {
    const prng = new Prng(42);
    const data = new Uint8Array(2 * 1024 * KiB);
    prng.fill(data);
    // Splice in zero runs and a periodic run so max cuts and resynchronisation happen too.
    data.fill(0, 300 * KiB, 900 * KiB);
    for (let i = 1200 * KiB; i < 1500 * KiB; i++) data[i] = i % 13;
    expect(chunkSizesOf(data, DEFAULT_CHUNK_SIZES)).toEqual(referenceChunkSizes(data, DEFAULT_CHUNK_SIZES));
  });

  it('skips runs of zeros exactly: bytes inside a run, at its edges and at max still cut as casync does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70_000 }),
        fc.integer({ min: 0, max: 400_000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
        fc.constantFrom(
          DEFAULT_CHUNK_SIZES,
          { min: 1024, avg: 4096, max: 16_384 },
          { min: 48, avg: 64, max: 5000 },
        ),
        fc.nat(),
        (prefix, zeros, spots, sizes, seed) => {
          const data = new Uint8Array(prefix + zeros + 5000);
          data.set(randomBytes(prefix, seed), 0);
          data.set(randomBytes(5000, seed + 1), prefix + zeros);
          for (const [at, b] of spots) if (zeros > 0) data[prefix + (at % zeros)] = b;
          expect(chunkSizesOf(data, sizes)).toEqual(referenceChunkSizes(data, sizes));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('scans runs of zeros byte by byte where a zero window is itself a cut', () => {
    // Sizes whose discriminator makes the hash of 48 zero bytes a cut (the only average
    // from 64 to 20,000 with min = avg / 4 and max = 4 avg): zeros cut at min.
    const sizes = { min: 1312, avg: 5251, max: 21_004 };
    expect(referenceChunkSizes(new Uint8Array(sizes.max * 2), sizes)[0]).toBe(sizes.min);
    const data = new Uint8Array(sizes.max * 20);
    data.set(randomBytes(3000, 8), sizes.max * 7);
    expect(chunkSizesOf(data, sizes)).toEqual(referenceChunkSizes(data, sizes));
  });
});
