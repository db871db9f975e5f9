import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkHasher, loadChunkHasher, opensslChunkHasher } from '../src/index.js';

describe('loadChunkHasher', () => {
  it('names the implementation it loaded', async () => {
    const hasher = await loadChunkHasher();
    expect(['sha512-mb-avx512', 'sha512-mb-avx2', 'openssl']).toContain(hasher.name);
  });

  // The loaded one (the addon where it runs) and the OpenSSL fallback, the same test.
  it.each([
    ['the loaded hasher', loadChunkHasher],
    ['the OpenSSL hasher', async () => opensslChunkHasher],
  ] as [string, () => Promise<ChunkHasher>][])(
    '%s gives the SHA512/256 of every range, in order',
    async (_, load) => {
      const hasher = await load();
      const data = randomBytes(2 * 1024 * 1024);
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.integer({ min: 0, max: data.length }), fc.integer({ min: 0, max: 300 * 1024 })),
            { maxLength: 40 },
          ),
          (ranges) => {
            const starts = Float64Array.from(ranges, ([at]) => at);
            const sizes = Float64Array.from(ranges, ([at, size]) => Math.min(size, data.length - at));
            const digests = Buffer.from(hasher.digestMany(data, starts, sizes));
            expect(digests.length).toBe(32 * ranges.length);
            for (let i = 0; i < ranges.length; i++) {
              const at = starts[i] as number;
              const expected = createHash('sha512-256')
                .update(data.subarray(at, at + (sizes[i] as number)))
                .digest('hex');
              expect(digests.toString('hex', 32 * i, 32 * i + 32)).toBe(expected);
            }
          },
        ),
        { numRuns: 60 },
      );
    },
  );
});
