import { ChunkInvalid, InvalidArgument, type Store } from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import { transferable, WorkerPool } from './worker-pool.js';

/** Options of readBlob. */
export interface ReadBlobOptions {
  index: ChunkIndex;
  store: Store;
  /** First byte to read; default 0. */
  offset?: number;
  /** Bytes to read; default to the end of the blob. */
  length?: number;
  /** Chunks fetched ahead of the reader; default 10. */
  concurrency?: number;
  workers?: number;
  signal?: AbortSignal;
}

/**
 * The bytes of a blob (or a range of it) in order, fetched ahead and verified in worker
 * threads; memory is bounded by `concurrency` chunks.
 */
export async function* readBlob(options: ReadBlobOptions): AsyncGenerator<Uint8Array> {
  const { index, store } = options;
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgument(`invalid offset ${offset}`);
  const end = Math.min(
    index.blobSize,
    options.length === undefined ? index.blobSize : offset + options.length,
  );
  if (offset >= end) return;
  const first = index.chunkAt(offset);
  const last = index.chunkAt(end - 1);
  const pool = new WorkerPool(options.workers ?? 1);
  const ahead = Math.max(1, options.concurrency ?? 10);
  const fetch = async (i: number): Promise<Uint8Array> => {
    const c = index.chunk(i);
    const chunk = await store.getChunk(c.id, { expectedSize: c.size, signal: options.signal });
    const plain = !chunk.hasCompressed;
    const data = plain ? await chunk.plainData() : await chunk.compressedData();
    const r = await pool.run(
      { type: 'verify-chunk', id: c.id, data, plain, expectedSize: c.size, keepPlain: true },
      transferable(data),
    );
    if (!r.ok) throw new ChunkInvalid(c.id, chunk.source, r.message);
    return r.plain!;
  };
  const queue: Promise<Uint8Array>[] = [];
  let next = first;
  try {
    while (next <= last || queue.length > 0) {
      while (next <= last && queue.length < ahead) {
        const p = fetch(next++);
        p.catch(() => undefined); // surfaced when awaited in order
        queue.push(p);
      }
      const i = next - queue.length;
      const data = await queue.shift()!;
      const c = index.chunk(i);
      const from = Math.max(offset, c.start) - c.start;
      const to = Math.min(end, c.start + c.size) - c.start;
      yield from === 0 && to === data.length ? data : data.subarray(from, to);
    }
  } finally {
    await pool.close();
  }
}
