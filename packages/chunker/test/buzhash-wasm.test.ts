import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import wabt from 'wabt';
import { WasmBuzhash } from '../src/buzhash-wasm.js';
import { BoundaryScanner, type ChunkSizes, chunkSizesOf } from '../src/index.js';
import { referenceChunkSizes } from './casync-reference.js';
import { bytesWithRuns } from './run-data.js';
import { Prng, randomBytes } from './testkit.js';

const here = dirname(fileURLToPath(import.meta.url));
const KiB = 1024;

afterEach(() => {
  WasmBuzhash.disabled = false;
  vi.restoreAllMocks();
});

describe('the WebAssembly inner loop', () => {
  it('is the module wasm/buzhash.wat compiles to', async () => {
    const wat = readFileSync(join(here, '..', 'wasm', 'buzhash.wat'), 'utf8');
    const module = (await wabt()).parseWat('buzhash.wat', wat);
    const built = Buffer.from(module.toBinary({}).buffer);
    const source = readFileSync(join(here, '..', 'src', 'buzhash-wasm.ts'), 'utf8');
    const embedded = /const WASM_BASE64 =\s*'([^']+)'/.exec(source)?.[1];
    expect(embedded).toBe(built.toString('base64'));
  });

  it('loads here', () => {
    expect(WasmBuzhash.get()).not.toBeNull();
  });

  // Sizes with many cuts, and ranges long enough (>= 4 KiB to test) for the wasm path.
  const sizesArb = fc
    .record({ min: fc.integer({ min: 64, max: 8 * KiB }), spread: fc.integer({ min: 2, max: 16 }) })
    .map(({ min, spread }): ChunkSizes => ({ min, avg: min * spread, max: min * spread * 4 }));

  for (const loop of ['wasm', 'js'] as const) {
    it(`finds casync's boundaries with the ${loop} loop on long inputs`, () => {
      WasmBuzhash.disabled = loop === 'js';
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1_000_000 }),
          sizesArb,
          fc.integer({ min: 64 * KiB, max: 1024 * KiB }),
          (seed, sizes, length) => {
            const data = randomBytes(length, seed);
            expect(chunkSizesOf(data, sizes)).toEqual(referenceChunkSizes(data, sizes));
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});

/**
 * Chunks `data` as the chunk worker does: reads of random lengths into a block of the
 * module's memory, each chunk scanned in place, the chunk in progress moved to the front
 * when the block is full, so chunks straddle reads and block refills.
 */
function blockChunkSizes(data: Uint8Array, sizes: ChunkSizes, blockSize: number, seed: number): number[] {
  const prng = new Prng(seed);
  // block() may hand out more than asked (the largest block so far): use blockSize of it.
  const buf = WasmBuzhash.get()!.block(blockSize).subarray(0, blockSize);
  const scanner = new BoundaryScanner(sizes);
  const out: number[] = [];
  let pos = 0;
  let filled = 0;
  let cs = 0;
  for (;;) {
    if (pos < data.length && filled < buf.length) {
      const n = Math.min(buf.length - filled, data.length - pos, 1 + prng.below(2 * sizes.max));
      buf.set(data.subarray(pos, pos + n), filled);
      filled += n;
      pos += n;
    }
    const eof = pos >= data.length;
    for (;;) {
      let n = scanner.scan(buf, cs, filled);
      if (n < 0) {
        if (!eof) break;
        n = filled - cs;
        if (n === 0) return out;
      }
      out.push(n);
      cs += n;
    }
    buf.copyWithin(0, cs, filled);
    filled -= cs;
    cs = 0;
  }
}

describe('scanning a block of the module’s memory in place', () => {
  const sizesArb = fc
    .record({ min: fc.integer({ min: 16, max: 8 * KiB }), spread: fc.integer({ min: 1, max: 16 }) })
    .map(({ min, spread }): ChunkSizes => ({ min, avg: min * spread, max: min * spread * 4 }));

  it('finds the cuts of the copying path, the TypeScript loop and casync', () => {
    const scanIn = vi.spyOn(WasmBuzhash.prototype, 'scanIn');
    const copyingScan = vi.spyOn(WasmBuzhash.prototype, 'scan');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        sizesArb,
        fc.integer({ min: 1, max: 1024 * KiB }),
        fc.integer({ min: 1, max: 64 * KiB }),
        fc.boolean(),
        (seed, sizes, length, extra, runs) => {
          const data = runs ? bytesWithRuns(length, 10 * KiB, seed) : randomBytes(length, seed);
          const expected = referenceChunkSizes(data, sizes);
          WasmBuzhash.disabled = true;
          expect(chunkSizesOf(data, sizes)).toEqual(expected);
          WasmBuzhash.disabled = false;
          expect(chunkSizesOf(data, sizes)).toEqual(expected);
          copyingScan.mockClear();
          scanIn.mockClear();
          // A block just above max leaves little room: many chunks straddle a refill.
          expect(blockChunkSizes(data, sizes, sizes.max + extra, seed)).toEqual(expected);
          expect(copyingScan).not.toHaveBeenCalled();
          // (Shorter ranges, and fixed sizes, take the TypeScript loop or need no scan.)
          if (sizes.max - Math.max(sizes.min, 48) >= 128 && length > 2 * sizes.max)
            expect(scanIn).toHaveBeenCalled();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps the block’s bytes when a copying scan grows the memory', () => {
    const wasm = WasmBuzhash.get()!;
    const block = wasm.block(64 * KiB);
    const pattern = randomBytes(64 * KiB, 9);
    block.set(pattern);
    // Ranges of several MiB do not fit the copy area: the memory grows, the view detaches.
    const big = randomBytes(6 * 1024 * KiB, 10);
    const sizes = { min: 1024 * KiB, avg: 4096 * KiB, max: 16384 * KiB };
    expect(chunkSizesOf(big, sizes)).toEqual(referenceChunkSizes(big, sizes));
    expect(block.length).toBe(0);
    const again = wasm.block(64 * KiB);
    expect(wasm.holds(again)).toBe(true);
    expect(Buffer.compare(again.subarray(0, pattern.length), pattern)).toBe(0);
  });
});
