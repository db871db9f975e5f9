import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import wabt from 'wabt';
import { WasmBuzhash } from '../src/buzhash-wasm.js';
import { type ChunkSizes, chunkSizesOf } from '../src/index.js';
import { referenceChunkSizes } from './casync-reference.js';
import { randomBytes } from './testkit.js';

const here = dirname(fileURLToPath(import.meta.url));
const KiB = 1024;

afterEach(() => {
  WasmBuzhash.disabled = false;
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
