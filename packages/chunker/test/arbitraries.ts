import fc from 'fast-check';
import type { ChunkSizes } from '../src/index.js';
import { randomBytes } from './testkit.js';

const int = (min: number, max: number) => fc.integer({ min, max });

/**
 * Valid chunk sizes (min <= avg <= max) small enough for byte-at-a-time checks, biased to
 * casync's corner cases: min below the 48-byte window, max below it, fixed size
 * (min == avg == max), min == avg, avg == max, tiny sizes, and an average past 9.32 MB
 * where casync's discriminator formula turns negative.
 */
export const chunkSizesArb: fc.Arbitrary<ChunkSizes> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(int(1, 400), int(0, 1500), int(0, 4000))
      .map(([min, a, b]) => sizes(min, min + a, min + a + b)),
  },
  { weight: 2, arbitrary: int(1, 1024).map((avg) => sizes(Math.max(1, avg >> 2), avg, avg * 4)) },
  { weight: 1, arbitrary: int(1, 300).map((n) => sizes(n, n, n)) },
  { weight: 1, arbitrary: fc.tuple(int(1, 400), int(1, 2000)).map(([min, d]) => sizes(min, min, min + d)) },
  {
    weight: 1,
    arbitrary: fc.tuple(int(1, 400), int(1, 2000)).map(([min, d]) => sizes(min, min + d, min + d)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(int(1, 8), int(0, 8), int(0, 30))
      .map(([min, a, b]) => sizes(min, min + a, min + a + b)),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(int(1, 2000), int(9_324_000, 20_000_000)).map(([min, avg]) => sizes(min, avg, avg)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      sizes(1, 2, 4),
      sizes(16, 64, 1024),
      sizes(48, 48, 96),
      sizes(1, 48, 48),
      sizes(47, 49, 50),
    ),
  },
);

function sizes(min: number, avg: number, max: number): ChunkSizes {
  return { min, avg, max };
}

function repeat(pattern: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = pattern[i % pattern.length];
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One stretch of chunker input. Zero runs and short repeated patterns are where a rolling
 * hash stays constant or periodic, so boundaries come from max alone or not at all.
 */
const segmentArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  // Seeded rather than fc.uint8Array, whose lengths fast-check keeps small.
  { weight: 3, arbitrary: fc.tuple(int(1, 6000), fc.nat()).map(([n, seed]) => randomBytes(n, seed)) },
  { weight: 2, arbitrary: int(1, 12_000).map((n) => new Uint8Array(n)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 9 }), int(1, 8000))
      .map(([pattern, n]) => repeat(pattern, n)),
  },
  { weight: 1, arbitrary: fc.tuple(int(0, 255), int(1, 3000)).map(([b, n]) => new Uint8Array(n).fill(b)) },
);

/** Chunker input: random bytes, zero runs, byte runs and periodic runs, mixed. */
export const chunkerInputArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6000 }) },
  { weight: 3, arbitrary: fc.array(segmentArb, { minLength: 1, maxLength: 8, size: 'max' }).map(concat) },
);
