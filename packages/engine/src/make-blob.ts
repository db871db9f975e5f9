import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type ChunkSink, type ChunkSizes, chunkFile, DEFAULT_CHUNK_SIZES } from '@desync/chunker';
import {
  Aborted,
  Chunk,
  type ChunkId,
  type FileStore,
  isFileStore,
  isPruneStore,
  type WriteStore,
} from '@desync/core';
import { BLOB_INDEX_FLAGS, type ChunkIndex, IndexWriter, readIndex } from '@desync/index-format';
import { NO_PROGRESS, type Progress } from './progress.js';
import { chopFile } from './store-ops.js';

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
  /** Chunks written to the store (the rest were there already). */
  storedChunks: number;
  /** Compressed bytes written to the store. */
  storedBytes: number;
  /**
   * Chunks stored from cuts that turned out not to be casync's and removed again (see
   * StoreSink.discard). Rare: long runs without natural cuts across section borders.
   */
  strayChunks: number;
}

/**
 * Chunks a file exactly as `casync make` does, stores the chunks the store lacks, and
 * writes the blob index. The index appears only when every chunk it names is stored.
 * Memory does not grow with the file: chunks go to the index file as they are found.
 */
export async function makeBlob(options: MakeBlobOptions): Promise<MakeBlobResult> {
  const sizes = options.chunkSizes ?? DEFAULT_CHUNK_SIZES;
  const progress = options.progress ?? NO_PROGRESS;
  const { size } = await stat(options.input).catch(() => ({ size: 0 }));
  const writer = await IndexWriter.create(options.indexPath, {
    featureFlags: BLOB_INDEX_FLAGS,
    chunkSizes: sizes,
  });
  const result: MakeBlobResult = { size: 0, chunks: 0, storedChunks: 0, storedBytes: 0, strayChunks: 0 };
  const sink = options.store
    ? new StoreSink(options.store, options.maxPendingBytes ?? 16 * 1024 * 1024, result)
    : undefined;
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
      }
    }
    await sink?.drain();
    // A signal that came after the last chunk still stops make before the index appears.
    if (options.signal?.aborted) throw new Aborted({ cause: options.signal.reason });
    await writer.finish(async (completeIndex) => {
      if (!sink || !options.store) return;
      const index = await readIndex(completeIndex);
      await sink.removeStrays(index);
      await ensureStored(index, options.store, options.input, result);
    });
    progress.update(result.size);
    return result;
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    progress.stop();
  }
}

/**
 * Makes sure every chunk the index names is in a file store before the index appears:
 * a concurrent prune, or another make removing its stray chunks, may have removed a chunk
 * this run found present and so did not store. Missing ones are stored again from the
 * input (chop, which verifies each against its id). One synchronous stat per chunk: the
 * workers stat'ed the same paths moments ago, so the answers come from the dentry cache
 * (about 16 ms for 6,000 chunks, where 16 lanes through libuv's thread pool took 40-100 ms
 * of a 512 MiB make whose chunks were all present). Other stores skip.
 */
async function ensureStored(index: ChunkIndex, store: WriteStore, input: string, result: MakeBlobResult) {
  if (!isFileStore(store)) return;
  for (let i = 0; i < index.length; i++) {
    if (existsSync(store.chunkPath(index.id(i)))) continue;
    const r = await chopFile({ index, input, store });
    result.storedChunks += r.stored;
    return;
  }
}

/** Ids recently offered, to skip a repeat while its first copy is still being written. */
const RECENT_LIMIT = 65536;

/** Decides which chunks the workers compress, and stores them, with bounded memory. */
class StoreSink implements ChunkSink {
  private recent = new Set<string>();
  /** Ids recently counted as written: two workers may both write a new chunk file. */
  private counted = new Set<string>();
  private pendingBytes = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly writes = new Set<Promise<void>>();
  private readonly strays = new Set<ChunkId>();
  /**
   * Set for file stores: workers decide which chunks the store lacks and write their files
   * themselves (want is then not asked), reporting each through `written`.
   */
  readonly chunkPath: ((id: ChunkId) => string) | undefined;

  constructor(
    private readonly store: WriteStore,
    private readonly maxPendingBytes: number,
    private readonly result: MakeBlobResult,
  ) {
    const files: FileStore | undefined = isFileStore(store) ? store : undefined;
    this.chunkPath = files ? (id) => files.chunkPath(id) : undefined;
  }

  /** True the first time `id` is seen lately; the store answers for older repeats. */
  private firstOffer(id: string): boolean {
    if (this.recent.has(id)) return false;
    if (this.recent.size >= RECENT_LIMIT) this.recent = new Set();
    this.recent.add(id);
    return true;
  }

  async want(ids: ChunkId[]): Promise<boolean[]> {
    // Hold the workers back while the store is behind.
    while (this.pendingBytes > this.maxPendingBytes) await new Promise<void>((r) => this.waiters.push(r));
    if (this.chunkPath) {
      // Local chunk files whose paths the workers cannot work out themselves (they ask
      // nothing otherwise): a synchronous stat answers in microseconds, and a worker waits
      // for this answer, so it beats a round trip through libuv's thread pool.
      return ids.map((id) => this.firstOffer(id) && !existsSync(this.chunkPath!(id)));
    }
    return Promise.all(ids.map(async (id) => this.firstOffer(id) && !(await this.store.hasChunk(id))));
  }

  written(id: ChunkId, frameSize: number): void {
    // Workers storing chunk files check the files each on their own: two of them may write
    // the same new chunk at about the same time (same bytes, atomic rename). Count it once.
    if (this.counted.has(id)) return;
    if (this.counted.size >= RECENT_LIMIT) this.counted = new Set();
    this.counted.add(id);
    this.result.storedChunks++;
    this.result.storedBytes += frameSize;
  }

  async put(id: ChunkId, frame: Uint8Array, size: number): Promise<void> {
    this.pendingBytes += frame.length;
    const write = this.store
      .storeChunk(Chunk.fromCompressed(id, frame, { source: 'make', expectedSize: size }))
      .then(() => this.written(id, frame.length))
      .finally(() => {
        this.pendingBytes -= frame.length;
        this.writes.delete(write);
        if (this.pendingBytes <= this.maxPendingBytes) for (const w of this.waiters.splice(0)) w();
      });
    this.writes.add(write);
    return write;
  }

  /**
   * Chunks the parallel chunker stored from a section start that was no real cut (a run
   * without cuts across a section border, longer than the overlap): valid chunks, which
   * removeStrays takes out again unless the index uses them elsewhere.
   */
  discard(ids: ChunkId[]): void {
    for (const id of ids) this.strays.add(id);
  }

  /**
   * Removes the stray chunks the finished index does not reference, so the store holds
   * exactly what casync would have put there. A concurrent make that found one present
   * and skipped it stores it again before its own index appears (ensureStored).
   */
  async removeStrays(index: ChunkIndex): Promise<void> {
    if (this.strays.size === 0 || !isPruneStore(this.store)) return;
    for (let i = 0; i < index.length; i++) this.strays.delete(index.id(i));
    for (const id of this.strays) {
      await this.store.removeChunk(id).catch(() => undefined);
      this.result.storedChunks--;
      this.result.strayChunks++;
    }
  }

  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.all(this.writes);
  }
}
