import { createHash } from 'node:crypto';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import {
  ChunkInvalid,
  ChunkMissing,
  describeSystemError,
  FileError,
  type FileStore,
  isFileStore,
  type Store,
  StoreRouter,
  tempPathFor,
} from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import { forEachBounded } from './bounded.js';
import { NO_PROGRESS, type Progress } from './progress.js';
import { openSeeds, type SeedChunks, type SeedSpec } from './seeds.js';
import { transferable, WorkerPool } from './worker-pool.js';

/** Options of extractBlob. */
export interface ExtractBlobOptions {
  index: ChunkIndex;
  /** Where chunks come from (a StoreRouter, possibly behind a CacheStore). */
  store: Store;
  /** The file to write. It appears under this name only when complete. */
  output: string;
  /** Chunks fetched at once; default 10 (desync's -n). */
  concurrency?: number;
  /** Worker threads for decompress + verify + write; default the number of CPUs. */
  workers?: number;
  /** Files whose chunks are copied instead of fetched (`--seed`); each copy is verified. */
  seeds?: readonly SeedSpec[];
  progress?: Progress;
  signal?: AbortSignal;
}

/** Where the bytes of an extraction came from. */
export interface ExtractBlobResult {
  size: number;
  chunks: number;
  /** Chunks fetched from the store. */
  fetchedChunks: number;
  /** Chunks already correct in an existing output, kept without fetching. */
  keptChunks: number;
  /** Chunks copied from an earlier place in the output (repeated content). */
  copiedChunks: number;
  /** Chunks copied from seed files. */
  seedChunks: number;
  /** All-zero chunks of the maximum size, left as holes of the sparse output (the null seed). */
  zeroChunks: number;
  /**
   * Bytes by origin: `seed`, `existing` (kept from the output), `self` (repeats), `zero`
   * (holes), and for fetched chunks the name of the store each came from (a cache or a
   * store of -s).
   */
  bytesFrom: Record<string, number>;
}

/** SHA512/256 of `size` zero bytes: the id of an all-zero chunk of that size. */
function zeroChunkId(size: number): string {
  return createHash('sha512-256').update(Buffer.alloc(size)).digest('hex');
}

// A 52-bit key from an id's first bytes: compact map keys; a collision only costs a
// failed (verified) copy and a fetch.
function shortKey(bytes: Uint8Array): number {
  return (
    bytes[0] * 2 ** 44 +
    bytes[1] * 2 ** 36 +
    bytes[2] * 2 ** 28 +
    bytes[3] * 2 ** 20 +
    bytes[4] * 2 ** 12 +
    bytes[5] * 16 +
    (bytes[6] >> 4)
  );
}

/** The stores behind `store` when all keep chunks in local files: workers read those directly. */
function fileStoresOf(store: Store): readonly FileStore[] | undefined {
  if (isFileStore(store)) return [store];
  if (store instanceof StoreRouter && store.stores.every(isFileStore)) return store.stores as FileStore[];
  return undefined;
}

/**
 * Writes the blob an index describes. Chunks are fetched concurrently and decompressed,
 * verified and written at their offsets by worker threads into a preallocated temporary
 * file beside the output, renamed over it when all is written. Before fetching, a chunk
 * is taken, in this order, from: nowhere when it is all zeros of the maximum size (a hole);
 * the existing output at the same place; an earlier place of the output (repeats); a seed.
 * Every copied range is hashed against the id first, so stale seeds only cost a fetch.
 */
export async function extractBlob(options: ExtractBlobOptions): Promise<ExtractBlobResult> {
  const { index, store, output } = options;
  const progress = options.progress ?? NO_PROGRESS;
  const existing = await stat(output).then(
    (s) => (s.isFile() ? s : undefined),
    () => undefined,
  );
  const temp = tempPathFor(output);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', existing ? existing.mode & 0o7777 : 0o644);
    await handle.truncate(index.blobSize);
    await handle.close();
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new FileError(output, `cannot write: ${describeSystemError(err)}`, { cause: err });
  }
  const pool = new WorkerPool(options.workers);
  const fileStores = fileStoresOf(store);
  const result: ExtractBlobResult = {
    size: index.blobSize,
    chunks: index.length,
    fetchedChunks: 0,
    keptChunks: 0,
    copiedChunks: 0,
    seedChunks: 0,
    zeroChunks: 0,
    bytesFrom: {},
  };
  const count = (origin: string, bytes: number): void => {
    result.bytesFrom[origin] = (result.bytesFrom[origin] ?? 0) + bytes;
  };
  // Runs of zeros chunk into maximum-size chunks; the preallocated temp file already reads
  // as zeros there, so those chunks need no bytes at all (a hole).
  const zeroId = zeroChunkId(index.chunkSizes.max);
  // First place each chunk was written, for repeated chunks.
  const firstWritten = new Map<number, number>();
  let doneBytes = 0;
  progress.start('extract', index.blobSize);
  try {
    const seeds: SeedChunks = options.seeds?.length
      ? await openSeeds(options.seeds, index.chunkSizes, options.signal)
      : new Map();
    const order = Array.from({ length: index.length }, (_, i) => i);
    await forEachBounded(
      order,
      options.concurrency ?? 10,
      async (i) => {
        const c = index.chunk(i);
        const key = shortKey(index.idBytesAt(i));
        const copyFrom = async (source: string, offset: number) => {
          const r = await pool.run({
            type: 'copy-range',
            source,
            offset,
            size: c.size,
            id: c.id,
            target: temp,
            targetOffset: c.start,
            skipZero: true,
          });
          if (!r.ok) throw new FileError(source, r.message);
          return r.copied === true;
        };
        let done = false;
        if (c.size === index.chunkSizes.max && c.id === zeroId) {
          result.zeroChunks++;
          count('zero', c.size);
          done = true;
        }
        if (!done && existing && existing.size >= c.start + c.size && (await copyFrom(output, c.start))) {
          result.keptChunks++;
          count('existing', c.size);
          done = true;
        }
        const first = firstWritten.get(key);
        if (!done && first !== undefined) {
          const f = index.chunk(first);
          if (f.id === c.id && (await copyFrom(temp, f.start))) {
            result.copiedChunks++;
            count('self', c.size);
            done = true;
          }
        }
        const seed = done ? undefined : seeds.get(c.id);
        if (seed && (await copyFrom(seed.file, seed.offset))) {
          result.seedChunks++;
          count('seed', c.size);
          done = true;
        }
        if (!done && fileStores) {
          const r = await pool.run({
            type: 'write-chunk-from-files',
            paths: fileStores.map((s) => s.chunkPath(c.id)),
            target: temp,
            offset: c.start,
            size: c.size,
            id: c.id,
            skipZero: true,
          });
          if (!r.ok) {
            if (r.kind === 'missing') throw new ChunkMissing(c.id, store.toString());
            if (r.kind === 'invalid')
              throw new ChunkInvalid(c.id, fileStores[r.source ?? 0].toString(), r.message);
            throw new FileError(output, r.code ? describeSystemError(r) : r.message);
          }
          result.fetchedChunks++;
          count(fileStores[r.source ?? 0].toString(), c.size);
          done = true;
        }
        if (!done) {
          const chunk = await store.getChunk(c.id, { expectedSize: c.size, signal: options.signal });
          const plain = !chunk.hasCompressed;
          const data = plain ? await chunk.plainData() : await chunk.compressedData();
          const r = await pool.run(
            {
              type: 'write-chunk',
              target: temp,
              offset: c.start,
              size: c.size,
              id: c.id,
              data,
              plain,
              skipZero: true,
            },
            transferable(data),
          );
          if (!r.ok) {
            if (r.kind === 'invalid') throw new ChunkInvalid(c.id, chunk.source, r.message);
            throw new FileError(output, r.code ? describeSystemError(r) : r.message);
          }
          result.fetchedChunks++;
          count(chunk.source, c.size);
        }
        if (!firstWritten.has(key)) firstWritten.set(key, i);
        doneBytes += c.size;
        progress.update(doneBytes);
      },
      options.signal,
    );
    await pool.close();
    await rename(temp, output).catch((err) => {
      throw new FileError(output, `cannot write: ${describeSystemError(err)}`, { cause: err });
    });
    return result;
  } catch (err) {
    await pool.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  } finally {
    progress.stop();
  }
}
