import { type ChunkId, chunkIdToBytes } from '@desync/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOB_INDEX_FLAGS, ChunkIndex, type IndexChunk } from '../src/index.js';

const SIZES = { min: 16, avg: 64, max: 256 };

function idOf(i: number): ChunkId {
  return i.toString(16).padStart(64, '0') as ChunkId;
}

/** Chunks of the given sizes laid end to end from offset 0, with distinct ids. */
function chunksOf(sizes: readonly number[]): IndexChunk[] {
  let start = 0;
  return sizes.map((size, i) => {
    const c = { start, size, id: idOf(i + 1) };
    start += size;
    return c;
  });
}

describe('ChunkIndex', () => {
  const chunks = chunksOf([100, 50, 1, 200]);
  const index = ChunkIndex.fromChunks(chunks, BLOB_INDEX_FLAGS, SIZES);

  it('keeps the header fields it was built with', () => {
    expect(index.featureFlags).toBe(BLOB_INDEX_FLAGS);
    expect(index.chunkSizes).toEqual(SIZES);
  });

  it('gives each chunk’s start, size, id, end and raw id bytes', () => {
    expect(index.length).toBe(4);
    chunks.forEach((c, i) => {
      expect(index.chunk(i)).toEqual(c);
      expect(index.id(i)).toBe(c.id);
      expect(index.end(i)).toBe(c.start + c.size);
      expect(Buffer.from(index.idBytesAt(i)).equals(chunkIdToBytes(c.id))).toBe(true);
    });
  });

  it('has the blob size of the last chunk’s end, and 0 when empty', () => {
    expect(index.blobSize).toBe(351);
    const empty = ChunkIndex.fromChunks([], BLOB_INDEX_FLAGS, SIZES);
    expect(empty.blobSize).toBe(0);
    expect(empty.length).toBe(0);
  });

  it('iterates its chunks in order', () => {
    expect([...index]).toEqual(chunks);
    expect([...ChunkIndex.fromChunks([], BLOB_INDEX_FLAGS, SIZES)]).toEqual([]);
  });

  it('finds the chunk holding an offset at and around every boundary', () => {
    expect(index.chunkAt(0)).toBe(0);
    expect(index.chunkAt(99)).toBe(0);
    expect(index.chunkAt(100)).toBe(1);
    expect(index.chunkAt(149)).toBe(1);
    expect(index.chunkAt(150)).toBe(2); // the 1-byte chunk
    expect(index.chunkAt(151)).toBe(3);
    expect(index.chunkAt(350)).toBe(3);
  });

  it('finds no chunk past the end, before the start, or in an empty index', () => {
    expect(index.chunkAt(351)).toBe(-1);
    expect(index.chunkAt(10_000)).toBe(-1);
    expect(index.chunkAt(-1)).toBe(-1);
    expect(ChunkIndex.fromChunks([], BLOB_INDEX_FLAGS, SIZES).chunkAt(0)).toBe(-1);
  });

  it('finds the chunk in a one-chunk index', () => {
    const one = ChunkIndex.fromChunks(chunksOf([7]), BLOB_INDEX_FLAGS, SIZES);
    expect([one.chunkAt(0), one.chunkAt(6), one.chunkAt(7)]).toEqual([0, 0, -1]);
  });

  it('finds the same chunk as a linear search, for any chunk sizes and offset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 200 }),
        fc.integer({ min: -5, max: 210_000 }),
        (sizes, offset) => {
          const list = chunksOf(sizes);
          const built = ChunkIndex.fromChunks(list, BLOB_INDEX_FLAGS, SIZES);
          const linear = list.findIndex((c) => offset >= c.start && offset < c.start + c.size);
          expect(built.chunkAt(offset)).toBe(linear);
          // Every chunk's first and last byte map to that chunk.
          list.forEach((c, i) => {
            expect(built.chunkAt(c.start)).toBe(i);
            expect(built.chunkAt(c.start + c.size - 1)).toBe(i);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds offsets beyond 4 GiB exactly', () => {
    const big = chunksOf([2 ** 32 + 5, 2 ** 33]);
    const built = ChunkIndex.fromChunks(big, BLOB_INDEX_FLAGS, SIZES);
    expect(built.blobSize).toBe(2 ** 32 + 5 + 2 ** 33);
    expect(built.chunkAt(2 ** 32 + 4)).toBe(0);
    expect(built.chunkAt(2 ** 32 + 5)).toBe(1);
  });
});
