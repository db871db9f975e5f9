import { Chunk, type ChunkId, ChunkInvalid, ChunkMissing, type Store, StoreError } from '@desync/core';
import { ChunkIndex, type IndexChunk } from '@desync/index-format';
import { Prng, randomBytes } from '@desync/testkit';
import { describe, expect, it } from 'vitest';
import { BlobReader } from '../src/index.js';

const SIZES = { min: 16, avg: 64, max: 256 };

/** A store in memory that counts fetches and can be told to fail or to hold a chunk back. */
class MemoryStore implements Store {
  readonly chunks = new Map<ChunkId, Uint8Array>();
  readonly fetches: ChunkId[] = [];
  failWith: Error | undefined;
  /** While set, getChunk waits for it before answering. */
  gate: Promise<void> | undefined;

  async getChunk(id: ChunkId): Promise<Chunk> {
    this.fetches.push(id);
    await this.gate;
    if (this.failWith) throw this.failWith;
    const data = this.chunks.get(id);
    if (!data) throw new ChunkMissing(id, this.toString());
    return Chunk.fromUnverifiedPlain(id, data, { source: this.toString() });
  }
  async hasChunk(id: ChunkId): Promise<boolean> {
    return this.chunks.has(id);
  }
  async close(): Promise<void> {}
  toString(): string {
    return 'memory-store';
  }
}

/** A blob cut into chunks of the given sizes, its index and a store holding every chunk. */
function makeBlob(sizes: number[], seed = 1): { blob: Buffer; index: ChunkIndex; store: MemoryStore } {
  const blob = randomBytes(
    sizes.reduce((a, b) => a + b, 0),
    seed,
  );
  const store = new MemoryStore();
  const chunks: IndexChunk[] = [];
  let start = 0;
  for (const size of sizes) {
    const chunk = Chunk.fromPlain(blob.subarray(start, start + size));
    store.chunks.set(chunk.id, blob.subarray(start, start + size));
    chunks.push({ start, size, id: chunk.id });
    start += size;
  }
  return { blob, index: ChunkIndex.fromChunks(chunks, 0n, SIZES), store };
}

describe('BlobReader', () => {
  it('reads any range, within a chunk, across chunk boundaries and up to the end', async () => {
    const prng = new Prng(7);
    const sizes = Array.from({ length: 40 }, () => 1 + prng.below(300));
    const { blob, index, store } = makeBlob(sizes);
    const reader = new BlobReader({ index, store, cacheBytes: 1000 });
    expect(reader.size).toBe(blob.length);
    for (let n = 0; n < 300; n++) {
      const offset = prng.below(blob.length);
      const length = prng.below(1200);
      const got = await reader.read(offset, length);
      expect(Buffer.from(got).equals(blob.subarray(offset, offset + length))).toBe(true);
    }
    expect(Buffer.from(await reader.read(0, blob.length)).equals(blob)).toBe(true);
  });

  it('returns nothing at or past the end and rejects a negative offset', async () => {
    const { blob, index, store } = makeBlob([100, 100]);
    const reader = new BlobReader({ index, store });
    expect((await reader.read(blob.length, 10)).length).toBe(0);
    expect((await reader.read(blob.length + 5, 10)).length).toBe(0);
    expect((await reader.read(150, 0)).length).toBe(0);
    await expect(reader.read(-1, 10)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('fetches only the chunks a read needs', async () => {
    const { index, store } = makeBlob([100, 100, 100, 100, 100]);
    const reader = new BlobReader({ index, store, readAhead: 0 });
    await reader.read(150, 100);
    expect(store.fetches).toEqual([index.id(1), index.id(2)]);
  });

  it('fetches each chunk once when read sequentially in small pieces', async () => {
    const { blob, index, store } = makeBlob([100, 250, 50, 300, 120]);
    const reader = new BlobReader({ index, store });
    const parts: Uint8Array[] = [];
    for (let at = 0; at < blob.length; at += 7) parts.push(await reader.read(at, 7));
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
    expect(store.fetches).toHaveLength(5);
    expect(new Set(store.fetches).size).toBe(5);
  });

  it('shares one fetch between concurrent reads of the same chunk', async () => {
    const { blob, index, store } = makeBlob([1000, 1000]);
    let open: () => void = () => undefined;
    store.gate = new Promise((resolve) => {
      open = resolve;
    });
    const reader = new BlobReader({ index, store, readAhead: 0 });
    const reads = Array.from({ length: 10 }, (_, i) => reader.read(i * 50, 100));
    await new Promise((resolve) => setTimeout(resolve, 10));
    open();
    const got = await Promise.all(reads);
    got.forEach((bytes, i) => {
      expect(Buffer.from(bytes).equals(blob.subarray(i * 50, i * 50 + 100))).toBe(true);
    });
    expect(store.fetches).toEqual([index.id(0)]);
  });

  it('keeps no more than cacheBytes of chunks, dropping the least recently used', async () => {
    const { index, store } = makeBlob([100, 100, 100]);
    const reader = new BlobReader({ index, store, cacheBytes: 200, readAhead: 0 });
    await reader.read(0, 1); // chunk 0
    await reader.read(100, 1); // chunk 1
    await reader.read(0, 1); // chunk 0 again: cached, now most recent
    await reader.read(200, 1); // chunk 2 evicts chunk 1
    await reader.read(0, 1); // cached
    await reader.read(100, 1); // refetched
    expect(store.fetches).toEqual([index.id(0), index.id(1), index.id(2), index.id(1)]);
  });

  it('fetches the next chunks ahead of a read', async () => {
    const { index, store } = makeBlob([100, 100, 100, 100]);
    const reader = new BlobReader({ index, store, readAhead: 2 });
    await reader.read(0, 10);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.fetches).toEqual([index.id(0), index.id(1), index.id(2)]);
    await reader.read(100, 200);
    expect(store.fetches).toHaveLength(4);
  });

  it('rejects with ChunkMissing naming the chunk and the store, and reads other chunks still', async () => {
    const { blob, index, store } = makeBlob([100, 100, 100]);
    store.chunks.delete(index.id(1));
    const reader = new BlobReader({ index, store });
    const err = await reader.read(50, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkMissing);
    expect((err as Error).message).toContain(index.id(1));
    expect((err as Error).message).toContain('memory-store');
    expect(Buffer.from(await reader.read(200, 100)).equals(blob.subarray(200))).toBe(true);
  });

  it('names the chunk and the store when the store fails otherwise', async () => {
    const { index, store } = makeBlob([100, 100]);
    store.failWith = new Error('connection reset');
    const reader = new BlobReader({ index, store });
    const err = await reader.read(120, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain(index.id(1));
    expect((err as Error).message).toContain('memory-store');
    expect((err as Error).message).toContain('connection reset');
  });

  it('retries a chunk whose fetch failed', async () => {
    const { blob, index, store } = makeBlob([100, 100]);
    store.failWith = new Error('timeout');
    const reader = new BlobReader({ index, store });
    await expect(reader.read(0, 10)).rejects.toBeInstanceOf(StoreError);
    store.failWith = undefined;
    expect(Buffer.from(await reader.read(0, 10)).equals(blob.subarray(0, 10))).toBe(true);
  });

  it('rejects a chunk whose content does not hash to its id', async () => {
    const { index, store } = makeBlob([100, 100]);
    store.chunks.set(index.id(0), new Uint8Array(100));
    const reader = new BlobReader({ index, store });
    const err = await reader.read(0, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect((err as Error).message).toContain(index.id(0));
  });

  it('rejects a chunk whose size differs from the index', async () => {
    const { blob, store } = makeBlob([100, 100]);
    const first = Chunk.fromPlain(blob.subarray(0, 100));
    const second = Chunk.fromPlain(blob.subarray(100, 200));
    // The index claims 150 bytes for the first chunk.
    const lying = ChunkIndex.fromChunks(
      [
        { start: 0, size: 150, id: first.id },
        { start: 150, size: 100, id: second.id },
      ],
      0n,
      SIZES,
    );
    const reader = new BlobReader({ index: lying, store });
    const err = await reader.read(0, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkInvalid);
    expect((err as Error).message).toContain('150');
  });

  it('streams the blob from an offset', async () => {
    const { blob, index, store } = makeBlob([100, 37, 250, 1]);
    const reader = new BlobReader({ index, store });
    const parts: Uint8Array[] = [];
    for await (const part of reader.stream(120)) parts.push(part);
    expect(Buffer.concat(parts).equals(blob.subarray(120))).toBe(true);
  });
});
