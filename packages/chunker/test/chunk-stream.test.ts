import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChunkSizes,
  chunkSizesOf,
  chunkStream,
  DEFAULT_CHUNK_SIZES,
  type StreamChunk,
} from '../src/index.js';
import { chunkerInputArb, chunkSizesArb } from './arbitraries.js';
import { randomBytes } from './testkit.js';

const KiB = 1024;

/** `data` cut before each of the given offsets (out-of-range and repeated cuts included). */
function splitAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, data.length)))].sort((a, b) => a - b);
  const blocks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, data.length]) {
    blocks.push(data.slice(at, p)); // an empty block when p === at: the stream must skip it
    at = p;
  }
  return blocks;
}

async function collect(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, sizes?: ChunkSizes) {
  const chunks: StreamChunk[] = [];
  for await (const c of chunkStream(source, sizes)) chunks.push(c);
  return chunks;
}

function expectSameChunks(chunks: StreamChunk[], data: Uint8Array, sizes: ChunkSizes): void {
  const expected = chunkSizesOf(data, sizes);
  expect(chunks.map((c) => c.data.length)).toEqual(expected);
  let start = 0;
  for (const c of chunks) {
    expect(c.start).toBe(start);
    expect(Buffer.from(c.data).equals(Buffer.from(data.subarray(start, start + c.data.length)))).toBe(true);
    start += c.data.length;
  }
}

async function* slowly(blocks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const b of blocks) {
    await Promise.resolve();
    yield b;
  }
}

describe('chunkStream', () => {
  it('cuts the chunks chunkSizesOf finds, however the input is split into blocks', async () => {
    await fc.assert(
      fc.asyncProperty(
        chunkerInputArb,
        chunkSizesArb,
        fc.array(fc.nat({ max: 60_000 }), { maxLength: 40 }),
        async (data, sizes, cuts) => {
          expectSameChunks(await collect(splitAt(data, cuts), sizes), data, sizes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('cuts the same chunks when fed one byte at a time', async () => {
    await fc.assert(
      fc.asyncProperty(chunkerInputArb, chunkSizesArb, async (data, sizes) => {
        const bytes = Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
        expectSameChunks(await collect(bytes, sizes), data, sizes);
      }),
      { numRuns: 40 },
    );
  });

  it('reads async sources and uses casync’s default sizes when none are given', async () => {
    const data = randomBytes(700 * KiB, 21);
    const blocks = splitAt(data, [1, 100, 64 * KiB, 64 * KiB + 1, 300 * KiB]);
    expectSameChunks(await collect(slowly(blocks)), data, DEFAULT_CHUNK_SIZES);
  });

  it('yields nothing for an empty source or one of empty blocks', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect([new Uint8Array(0), new Uint8Array(0)])).toEqual([]);
  });

  it('yields one chunk for a source shorter than min', async () => {
    const data = randomBytes(100, 22);
    const chunks = await collect([data.subarray(0, 40), data.subarray(40)]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].start).toBe(0);
    expect(Buffer.from(chunks[0].data).equals(data)).toBe(true);
  });

  it('yields copies: reusing an input block afterwards leaves earlier chunks intact', async () => {
    const sizes = { min: 64, avg: 128, max: 256 };
    const data = randomBytes(4 * KiB, 23);
    const block = new Uint8Array(1000);
    const seen: StreamChunk[] = [];
    // One buffer refilled for every block, as a file reader with a fixed buffer does.
    async function* reuse(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += block.length) {
        const n = Math.min(block.length, data.length - at);
        block.set(data.subarray(at, at + n));
        yield block.subarray(0, n);
      }
    }
    for await (const c of chunkStream(reuse(), sizes)) seen.push(c);
    expectSameChunks(seen, data, sizes);
  });
});
