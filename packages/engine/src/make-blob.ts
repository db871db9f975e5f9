import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type ChunkSink, type ChunkSizes, chunkFile, DEFAULT_CHUNK_SIZES } from '@desync/chunker';
import {
  Chunk,
  type ChunkId,
  type FileStore,
  isFileStore,
  isPruneStore,
  type WriteStore,
} from '@desync/core';
import { BLOB_INDEX_FLAGS, IndexWriter } from '@desync/index-format';
import { NO_PROGRESS, type Progress } from './progress.js';

/** Options of makeBlob. */
export interface MakeBlobOptions {
  /** The file (or block device) to chunk. */
  input: string;
  /** Where the .caibx goes; written under a temporary name, renamed when complete. */
  indexPath: string;
  /** Receives the chunks the store lacks. Without it, only the index is written. */
  store?: WriteStore;
  /** Chunk sizes; default casync's 16/64/256 KiB. */
  chunkSizes?: ChunkSizes;
  /** Worker threads; default the number of CPUs. */
  concurrency?: number;
  /** Compressed bytes waiting for the store before the workers are held back; default 16 MiB. */
  maxPendingBytes?: number;
  progress?: Progress;
  signal?: AbortSignal;
}

/** What makeBlob did. */
export interface MakeBlobResult {
  size: number;
  chunks: number;
  uniqueChunks: number;
  /** Chunks written to the store (the rest were there already). */
  storedChunks: number;
  storedBytes: number;
}

/**
 * Chunks a file exactly as `casync make` does, stores the chunks the store lacks, and
 * writes the blob index. The index appears only when every chunk it names is stored.
 */
export async function makeBlob(options: MakeBlobOptions): Promise<MakeBlobResult> {
  const sizes = options.chunkSizes ?? DEFAULT_CHUNK_SIZES;
  const progress = options.progress ?? NO_PROGRESS;
  const { size } = await stat(options.input).catch(() => ({ size: 0 }));
  const writer = await IndexWriter.create(options.indexPath, {
    featureFlags: BLOB_INDEX_FLAGS,
    chunkSizes: sizes,
  });
  const result: MakeBlobResult = { size: 0, chunks: 0, uniqueChunks: 0, storedChunks: 0, storedBytes: 0 };
  const sink = options.store
    ? new StoreSink(options.store, options.maxPendingBytes ?? 16 * 1024 * 1024, result)
    : undefined;
  const seen = new Set<string>();
  progress.start('make', size);
  try {
    for await (const batch of chunkFile(options.input, {
      sizes,
      concurrency: options.concurrency,
      sink,
      signal: options.signal,
      onProgress: (done) => progress.update(done),
    })) {
      for (const c of batch) {
        await writer.add(c.start + c.size, c.id);
        result.chunks++;
        result.size = c.start + c.size;
        if (!seen.has(c.id)) {
          seen.add(c.id);
          result.uniqueChunks++;
        }
      }
    }
    if (sink) {
      await sink.drain();
      await sink.removeUnreferenced(seen);
    }
    await writer.finish();
    progress.update(result.size);
    return result;
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    progress.stop();
  }
}

/** Decides which chunks the workers compress, and stores them, with bounded memory. */
class StoreSink implements ChunkSink {
  private readonly offered = new Set<string>();
  private pendingBytes = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly writes = new Set<Promise<void>>();
  /** Ids this run wrote to the store. */
  private readonly stored = new Set<string>();

  constructor(
    private readonly store: WriteStore,
    private readonly maxPendingBytes: number,
    private readonly result: MakeBlobResult,
  ) {
    const files: FileStore | undefined = isFileStore(store) ? store : undefined;
    this.chunkPath = files ? (id) => files.chunkPath(id) : undefined;
  }

  async want(ids: ChunkId[]): Promise<boolean[]> {
    // Hold the workers back while the store is behind.
    while (this.pendingBytes > this.maxPendingBytes) await new Promise<void>((r) => this.waiters.push(r));
    if (this.chunkPath) {
      // Local chunk files: a synchronous stat answers in microseconds, and a worker waits
      // for this answer, so it beats a round trip through libuv's thread pool.
      return ids.map((id) => {
        if (this.offered.has(id)) return false;
        this.offered.add(id);
        return !existsSync(this.chunkPath!(id));
      });
    }
    return Promise.all(
      ids.map(async (id) => {
        if (this.offered.has(id)) return false;
        this.offered.add(id);
        return !(await this.store.hasChunk(id));
      }),
    );
  }

  /** Set for file stores: workers write chunk files themselves. */
  readonly chunkPath: ((id: ChunkId) => string) | undefined;

  written(id: ChunkId, frameSize: number): void {
    this.stored.add(id);
    this.result.storedChunks++;
    this.result.storedBytes += frameSize;
  }

  async put(id: ChunkId, frame: Uint8Array, size: number): Promise<void> {
    this.pendingBytes += frame.length;
    const write = this.store
      .storeChunk(Chunk.fromCompressed(id, frame, { source: 'make', expectedSize: size }))
      .then(() => {
        this.stored.add(id);
        this.result.storedChunks++;
        this.result.storedBytes += frame.length;
      })
      .finally(() => {
        this.pendingBytes -= frame.length;
        this.writes.delete(write);
        if (this.pendingBytes <= this.maxPendingBytes) for (const w of this.waiters.splice(0)) w();
      });
    this.writes.add(write);
    return write;
  }

  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.all(this.writes);
  }

  /**
   * Removes chunks this run stored that the index does not reference. The parallel
   * chunker can, rarely (long runs without a cut across a section border), hand over a
   * chunk from a section start that turned out not to be a real cut; the store should hold
   * exactly what casync would have put there.
   */
  async removeUnreferenced(referenced: Set<string>): Promise<void> {
    if (!isPruneStore(this.store)) return;
    for (const id of this.stored) {
      if (referenced.has(id)) continue;
      await this.store.removeChunk(id as ChunkId).catch(() => undefined);
      this.result.storedChunks--;
      this.stored.delete(id);
    }
  }
}
