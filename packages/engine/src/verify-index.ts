import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type ChunkId, chunkIdFromBytes, describeSystemError, FileError, type Store } from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';
import { forEachBounded } from './bounded.js';
import { NO_PROGRESS, type Progress } from './progress.js';

/** Options of verifyIndex. */
export interface VerifyIndexOptions {
  index: ChunkIndex;
  /** The file to check against the index. */
  file: string;
  /** When given, every distinct chunk of the index is also looked up here. */
  store?: Store;
  /** Store lookups in flight at once; default 10. */
  concurrency?: number;
  /** Bytes read, in the phase `verify-index`. */
  progress?: Progress;
  signal?: AbortSignal;
}

/** The first chunk whose byte range in the file does not hash to the id in the index. */
export interface ChunkMismatch {
  /** Position of the chunk in the index, from 0. */
  chunk: number;
  /** Where the chunk starts in the file. */
  offset: number;
  /** Size the index gives the chunk. */
  size: number;
  expected: ChunkId;
  /** Id of the bytes the file holds there (fewer than `size` when the file ends inside the chunk). */
  actual: ChunkId;
}

/** What verifyIndex found; the file matches when `mismatch` and `sizeDiffers` are both unset/false. */
export interface VerifyIndexResult {
  /** Chunks in the index. */
  chunks: number;
  /** Size the index describes. */
  blobSize: number;
  /** Size of the file. */
  fileSize: number;
  /** True when fileSize differs from blobSize. */
  sizeDiffers: boolean;
  /** The first differing chunk, if one differs. */
  mismatch?: ChunkMismatch;
  /** With a store: distinct chunk ids it lacks, in index order. */
  missing?: ChunkId[];
}

// Large reads keep syscalls few; memory stays at one read buffer whatever the file size.
const READ_SIZE = 1024 * 1024;

/**
 * Checks that `file` is the blob `index` describes: its size, and the SHA512/256 of every
 * chunk's byte range. The file is streamed once, hashing as it goes, so memory is bounded;
 * reading stops at the first differing chunk, which is reported.
 */
export async function verifyIndex(options: VerifyIndexOptions): Promise<VerifyIndexResult> {
  const { index, file, signal } = options;
  const progress = options.progress ?? NO_PROGRESS;
  let fileSize: number;
  try {
    fileSize = (await stat(file)).size;
  } catch (err) {
    throw new FileError(file, `cannot read: ${describeSystemError(err)}`, { cause: err });
  }
  const result: VerifyIndexResult = {
    chunks: index.length,
    blobSize: index.blobSize,
    fileSize,
    sizeDiffers: fileSize !== index.blobSize,
  };
  const mismatch = await firstMismatch(index, file, progress, signal);
  if (mismatch) result.mismatch = mismatch;
  if (options.store) result.missing = await missingChunks(index, options.store, options.concurrency, signal);
  return result;
}

async function firstMismatch(
  index: ChunkIndex,
  file: string,
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<ChunkMismatch | undefined> {
  if (index.length === 0) return undefined;
  const stream = createReadStream(file, { highWaterMark: READ_SIZE, signal });
  let chunk = 0;
  let start = 0;
  let end = index.end(0);
  let hash: Hash = createHash('sha512-256');
  let position = 0;
  const finish = (): ChunkMismatch | undefined => {
    const digest = hash.digest();
    if (digest.equals(index.idBytesAt(chunk))) return undefined;
    return {
      chunk,
      offset: start,
      size: end - start,
      expected: index.id(chunk),
      actual: chunkIdFromBytes(digest),
    };
  };
  progress.start('verify-index', index.blobSize);
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < piece.length) {
        const take = Math.min(piece.length - at, end - position);
        hash.update(piece.subarray(at, at + take));
        at += take;
        position += take;
        if (position < end) continue;
        const bad = finish();
        if (bad) return bad;
        chunk++;
        // Bytes past the last chunk only make the size differ, which the caller reports.
        if (chunk === index.length) return undefined;
        start = end;
        end = index.end(chunk);
        hash = createHash('sha512-256');
      }
      progress.update(position);
    }
  } catch (err) {
    signal?.throwIfAborted();
    throw new FileError(file, `cannot read: ${describeSystemError(err)}`, { cause: err });
  } finally {
    stream.destroy();
    // The loop may return mid-piece (last chunk, first mismatch) before its update.
    progress.update(position);
    progress.stop();
  }
  // The file ended inside chunk `chunk`: what it holds there cannot hash to the full chunk.
  return finish();
}

async function missingChunks(
  index: ChunkIndex,
  store: Store,
  concurrency = 10,
  signal?: AbortSignal,
): Promise<ChunkId[]> {
  const ids = new Set<ChunkId>();
  for (let i = 0; i < index.length; i++) ids.add(index.id(i));
  const missing = new Set<ChunkId>();
  await forEachBounded(
    ids,
    concurrency,
    async (id) => {
      if (!(await store.hasChunk(id))) missing.add(id);
    },
    signal,
  );
  // Index order, so the first one reported is the first the file needs.
  return [...ids].filter((id) => missing.has(id));
}
