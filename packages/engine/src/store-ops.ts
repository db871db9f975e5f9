import { access, constants } from 'node:fs/promises';
import {
  Chunk,
  type ChunkId,
  ChunkInvalid,
  ChunkMissing,
  DataMismatch,
  describeSystemError,
  FileError,
  type PruneStore,
  type Store,
  type WriteStore,
} from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import { forEachBounded } from './bounded.js';
import { NO_PROGRESS, type Progress } from './progress.js';
import { transferable, WorkerPool } from './worker-pool.js';

/** The distinct chunk ids of some indexes, in first-seen order. */
export function uniqueChunkIds(indexes: readonly ChunkIndex[]): ChunkId[] {
  const seen = new Set<ChunkId>();
  for (const index of indexes) for (let i = 0; i < index.length; i++) seen.add(index.id(i));
  return [...seen];
}

/** Options of verifyStore. */
export interface VerifyStoreOptions {
  store: PruneStore;
  /** Remove chunks that fail the check (`-r`). */
  repair?: boolean;
  /** Chunks checked at once; default 10. */
  concurrency?: number;
  workers?: number;
  progress?: Progress;
  /** Called for each invalid chunk, for the CLI to report it. */
  onInvalid?: (id: ChunkId, reason: string) => void;
  signal?: AbortSignal;
}

/** What verifyStore found. */
export interface VerifyStoreResult {
  checked: number;
  invalid: number;
  removed: number;
}

/**
 * Reads every chunk of a store and checks that its content hashes to its id
 * (decompression and hashing in worker threads). With `repair`, invalid chunks are removed.
 */
export async function verifyStore(options: VerifyStoreOptions): Promise<VerifyStoreResult> {
  const { store } = options;
  const progress = options.progress ?? NO_PROGRESS;
  const result: VerifyStoreResult = { checked: 0, invalid: 0, removed: 0 };
  const pool = new WorkerPool(options.workers);
  progress.start('verify', 0);
  try {
    await forEachBounded(
      store.listChunks(options.signal),
      options.concurrency ?? 10,
      async (id) => {
        let reason: string | undefined;
        try {
          const chunk = await store.getChunk(id);
          const plain = !chunk.hasCompressed;
          const data = plain ? await chunk.plainData() : await chunk.compressedData();
          const r = await pool.run({ type: 'verify-chunk', id, data, plain }, transferable(data));
          if (!r.ok) reason = r.message;
        } catch (err) {
          if (err instanceof ChunkMissing) return; // removed while we listed
          if (!(err instanceof ChunkInvalid)) throw err;
          reason = err.reason;
        }
        result.checked++;
        if (reason !== undefined) {
          result.invalid++;
          options.onInvalid?.(id, reason);
          if (options.repair) {
            await store.removeChunk(id);
            result.removed++;
          }
        }
        progress.update(result.checked);
      },
      options.signal,
    );
    return result;
  } finally {
    await pool.close();
    progress.stop();
  }
}

/** Options of pruneStore. */
export interface PruneStoreOptions {
  store: PruneStore;
  /** Chunks these indexes reference are kept; every other chunk is removed. */
  indexes: readonly ChunkIndex[];
  signal?: AbortSignal;
}

/** Removes every chunk no index references; returns how many were kept and removed. */
export async function pruneStore(options: PruneStoreOptions): Promise<{ kept: number; removed: number }> {
  const keep = new Set<string>(uniqueChunkIds(options.indexes));
  let kept = 0;
  const doomed: ChunkId[] = [];
  for await (const id of options.store.listChunks(options.signal)) {
    if (keep.has(id)) kept++;
    else doomed.push(id);
  }
  let removed = 0;
  await forEachBounded(doomed, 10, async (id) => {
    try {
      await options.store.removeChunk(id);
      removed++;
    } catch (err) {
      if (!(err instanceof ChunkMissing)) throw err;
    }
  });
  return { kept, removed };
}

/** Options of fillCache. */
export interface FillCacheOptions {
  /** Where chunks come from. */
  store: Store;
  /** The cache to fill (`-c`). */
  cache: WriteStore;
  indexes: readonly ChunkIndex[];
  concurrency?: number;
  progress?: Progress;
  signal?: AbortSignal;
}

/** Copies into the cache every chunk the indexes need that it lacks; verified on the way. */
export async function fillCache(options: FillCacheOptions): Promise<{ chunks: number; fetched: number }> {
  const ids = uniqueChunkIds(options.indexes);
  const progress = options.progress ?? NO_PROGRESS;
  let done = 0;
  let fetched = 0;
  progress.start('cache', ids.length);
  try {
    await forEachBounded(
      ids,
      options.concurrency ?? 10,
      async (id) => {
        if (!(await options.cache.hasChunk(id))) {
          const chunk = await options.store.getChunk(id, { signal: options.signal });
          await chunk.plainData();
          await options.cache.storeChunk(chunk);
          fetched++;
        }
        progress.update(++done);
      },
      options.signal,
    );
  } finally {
    progress.stop();
  }
  return { chunks: ids.length, fetched };
}

/** Options of chopFile. */
export interface ChopFileOptions {
  index: ChunkIndex;
  /** The file to cut where the index says. */
  input: string;
  store: WriteStore;
  concurrency?: number;
  workers?: number;
  progress?: Progress;
  signal?: AbortSignal;
}

/**
 * Stores the chunks of a file cut where an index says (desync chop). Every chunk is
 * hashed; a range that does not hash to the index's id is an error naming the chunk.
 */
export async function chopFile(options: ChopFileOptions): Promise<{ chunks: number; stored: number }> {
  const { index, store } = options;
  await access(options.input, constants.R_OK).catch((err) => {
    throw new FileError(options.input, describeSystemError(err), { cause: err });
  });
  const progress = options.progress ?? NO_PROGRESS;
  const pool = new WorkerPool(options.workers);
  const seen = new Set<string>();
  let stored = 0;
  let done = 0;
  progress.start('chop', index.blobSize);
  try {
    await forEachBounded(
      Array.from({ length: index.length }, (_, i) => i),
      options.concurrency ?? 10,
      async (i) => {
        const c = index.chunk(i);
        if (!seen.has(c.id)) {
          seen.add(c.id);
          if (!(await store.hasChunk(c.id))) {
            const r = await pool.run({
              type: 'read-chunk',
              source: options.input,
              offset: c.start,
              size: c.size,
              compress: true,
            });
            if (!r.ok) throw new FileError(options.input, r.code ? describeSystemError(r) : r.message);
            if (r.id !== c.id) {
              throw new DataMismatch(
                `${options.input} does not match the index at chunk ${i} (${c.id}): bytes ${c.start}..${c.start + c.size} hash to ${r.id}`,
              );
            }
            await store.storeChunk(
              Chunk.fromCompressed(c.id, r.frame!, { source: options.input, expectedSize: c.size }),
            );
            stored++;
          }
        }
        done += c.size;
        progress.update(done);
      },
      options.signal,
    );
  } finally {
    await pool.close();
    progress.stop();
  }
  return { chunks: index.length, stored };
}
