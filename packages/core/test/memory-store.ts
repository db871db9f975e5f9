import { Chunk } from '../src/chunk.js';
import { type ChunkId, isChunkId } from '../src/chunk-id.js';
import { ChunkMissing } from '../src/errors.js';
import type { GetChunkOptions, PruneStore, TouchStore } from '../src/store.js';

/** Options of a MemoryStore. */
export interface MemoryStoreOptions {
  /** Name used by toString() and in errors. Default `memory`. */
  name?: string;
}

/** Lets other callbacks run between a store call and its answer, as real I/O would. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A PruneStore and TouchStore kept in a Map, for core's tests. Entries are keyed by name, so
 * tests can put non-chunk entries beside chunks; it counts calls so tests can see which
 * store served a read.
 */
export class MemoryStore implements PruneStore, TouchStore {
  /** Stored frames by key: chunk ids, plus whatever tests put there. */
  readonly entries = new Map<string, Uint8Array>();
  /** Chunk ids in the order they were touched. */
  readonly touched: ChunkId[] = [];
  /** Counts of calls by method. */
  readonly calls = { getChunk: 0, hasChunk: 0, storeChunk: 0, close: 0 };
  /** When set, getChunk rejects with this instead of reading. */
  failWith: Error | undefined;
  /** When set, touchChunk rejects with this. */
  touchFailsWith: Error | undefined;
  private readonly name: string;

  constructor(options: MemoryStoreOptions = {}) {
    this.name = options.name ?? 'memory';
  }

  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    this.calls.getChunk++;
    options?.signal?.throwIfAborted();
    await tick();
    options?.signal?.throwIfAborted();
    if (this.failWith) throw this.failWith;
    const frame = this.entries.get(id);
    if (!frame) throw new ChunkMissing(id, this.name);
    return Chunk.fromCompressed(id, frame, { source: this.name, expectedSize: options?.expectedSize });
  }

  async hasChunk(id: ChunkId): Promise<boolean> {
    this.calls.hasChunk++;
    await tick();
    return this.entries.has(id);
  }

  async storeChunk(chunk: Chunk): Promise<void> {
    this.calls.storeChunk++;
    const frame = await chunk.compressedData();
    await tick();
    if (!this.entries.has(chunk.id)) this.entries.set(chunk.id, frame);
  }

  async *listChunks(signal?: AbortSignal): AsyncIterable<ChunkId> {
    for (const key of [...this.entries.keys()]) {
      signal?.throwIfAborted();
      await tick();
      signal?.throwIfAborted();
      if (isChunkId(key)) yield key;
    }
  }

  async removeChunk(id: ChunkId): Promise<void> {
    await tick();
    if (!this.entries.delete(id)) throw new ChunkMissing(id, this.name);
  }

  async touchChunk(id: ChunkId): Promise<void> {
    await tick();
    if (this.touchFailsWith) throw this.touchFailsWith;
    if (!this.entries.has(id)) throw new ChunkMissing(id, this.name);
    this.touched.push(id);
  }

  async close(): Promise<void> {
    this.calls.close++;
  }

  toString(): string {
    return this.name;
  }
}
