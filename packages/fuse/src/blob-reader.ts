import { ChunkInvalid, ChunkMissing, InvalidArgument, type Store, StoreError } from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import { ChunkCache } from './chunk-cache.js';

/** Options of BlobReader. */
export interface BlobReaderOptions {
  /** The index (.caibx or .caidx) whose blob or archive stream is read. */
  index: ChunkIndex;
  /** Where the chunks are; asked for each chunk not in the cache. */
  store: Store;
  /** Plain chunk bytes kept for reuse, least recently used dropped first; default 64 MiB. */
  cacheBytes?: number;
  /**
   * Chunks fetched in the background after the last chunk of each read, so a sequential
   * reader rarely waits for the store; default 2, 0 turns it off.
   */
  readAhead?: number;
}

/** Default of BlobReaderOptions.cacheBytes. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Random access to the blob an index describes. A read finds its chunks by binary search over
 * the chunk end offsets and fetches only those, concurrently. Chunks are verified against
 * their id (the Chunk does that) and their size against the index before any byte is handed
 * out. Recently used chunks stay in a bounded cache, and concurrent reads of one chunk share
 * one fetch, so a sequential reader reading in pieces smaller than a chunk fetches each chunk once.
 */
export class BlobReader {
  readonly index: ChunkIndex;
  readonly store: Store;
  private readonly cache: ChunkCache;
  private readonly inflight = new Map<number, Promise<Uint8Array>>();
  private readonly readAhead: number;

  constructor(options: BlobReaderOptions) {
    this.index = options.index;
    this.store = options.store;
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new InvalidArgument(`cache size must be a number of bytes, got ${cacheBytes}`);
    }
    this.cache = new ChunkCache(cacheBytes);
    this.readAhead = Math.max(0, options.readAhead ?? 2);
  }

  /** Size of the blob in bytes. */
  get size(): number {
    return this.index.blobSize;
  }

  /**
   * Up to `length` bytes from `offset` (fewer at the end of the blob, none past it).
   * @throws ChunkMissing, ChunkInvalid or StoreError naming the chunk and the store when a
   *   chunk the range needs cannot be had; InvalidArgument for a negative offset or length.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const target = new Uint8Array(Math.max(0, Math.min(length, this.size - offset)));
    const n = await this.readInto(target, offset);
    return target.subarray(0, n);
  }

  /**
   * Fills `target` (or as much of it as the blob has) with the bytes from `offset`; returns
   * the number of bytes written. Errors as read().
   */
  async readInto(target: Uint8Array, offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgument(`invalid offset ${offset}`);
    const end = Math.min(this.size, offset + target.byteLength);
    if (offset >= end) return 0;
    const first = this.index.chunkAt(offset);
    const last = this.index.chunkAt(end - 1);
    const pieces: Promise<void>[] = [];
    for (let i = first; i <= last; i++) {
      pieces.push(
        this.chunk(i).then((data) => {
          const start = i === 0 ? 0 : this.index.end(i - 1);
          const from = Math.max(offset, start);
          const to = Math.min(end, this.index.end(i));
          target.set(data.subarray(from - start, to - start), from - offset);
        }),
      );
    }
    // Settle every fetch before failing, so none is left writing into `target` afterwards.
    const results = await Promise.allSettled(pieces);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (let i = last + 1; i <= last + this.readAhead && i < this.index.length; i++) {
      // A failed prefetch is forgotten: the read that needs the chunk fetches it again and reports.
      this.chunk(i).catch(() => undefined);
    }
    return end - offset;
  }

  /**
   * The blob from `offset` to the end as a stream, `ahead` chunks fetched ahead of the
   * consumer (bypassing nothing: chunks pass through the cache like any read).
   */
  async *stream(offset = 0, ahead = 8): AsyncGenerator<Uint8Array> {
    if (offset >= this.size) return;
    const first = this.index.chunkAt(offset);
    const queue: Promise<Uint8Array>[] = [];
    let next = first;
    while (next < this.index.length || queue.length > 0) {
      while (next < this.index.length && queue.length < Math.max(1, ahead)) {
        const p = this.chunk(next++);
        p.catch(() => undefined); // surfaced when awaited in order
        queue.push(p);
      }
      const i = next - queue.length;
      const data = await (queue.shift() as Promise<Uint8Array>);
      const start = i === 0 ? 0 : this.index.end(i - 1);
      yield offset > start ? data.subarray(offset - start) : data;
    }
  }

  /** The plain bytes of chunk `i`: from the cache, from a fetch under way, or fetched now. */
  private chunk(i: number): Promise<Uint8Array> {
    const cached = this.cache.get(i);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.inflight.get(i);
    if (pending === undefined) {
      pending = this.fetch(i).finally(() => this.inflight.delete(i));
      this.inflight.set(i, pending);
    }
    return pending;
  }

  private async fetch(i: number): Promise<Uint8Array> {
    const { id, size } = this.index.chunk(i);
    const store = this.store.toString();
    let data: Uint8Array;
    try {
      const chunk = await this.store.getChunk(id, { expectedSize: size });
      data = await chunk.plainData();
    } catch (err) {
      // ChunkMissing and ChunkInvalid name the chunk and the store already; other store
      // failures (network, permissions) do not name the chunk, which the user needs.
      if (err instanceof ChunkMissing || err instanceof ChunkInvalid) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new StoreError(store, `reading chunk ${id}: ${reason}`, { cause: err });
    }
    if (data.byteLength !== size) {
      throw new ChunkInvalid(id, store, `it holds ${data.byteLength} bytes, the index says ${size}`);
    }
    this.cache.set(i, data);
    return data;
  }
}
