import type { Chunk } from './chunk.js';
import type { ChunkId } from './chunk-id.js';

/** Options for one read. */
export interface GetChunkOptions {
  /** Aborts the read; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Plain size expected (from the index), used to size buffers; never trusted. */
  expectedSize?: number;
}

/**
 * The read side of a chunk store.
 *
 * Contract (every adapter, checked by `describeStoreConformance` from `@desync/core/testing`):
 * - getChunk rejects with ChunkMissing (core) when the store does not hold the chunk, and
 *   with StoreError naming the store for any other failure; never resolves to a wrong chunk:
 *   the returned Chunk verifies its bytes against the id when they are first read
 *   (ChunkInvalid then).
 * - Every method may be called concurrently, any number of times.
 * - hasChunk answers without transferring the chunk where the backend allows it.
 * - close() releases connections and handles; it is idempotent.
 * - toString() names the store (a path or URL, never credentials) for messages.
 */
export interface Store {
  getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk>;
  hasChunk(id: ChunkId): Promise<boolean>;
  close(): Promise<void>;
  toString(): string;
}

/**
 * A store that also takes chunks.
 *
 * storeChunk is idempotent (storing a chunk that is there already succeeds) and atomic: a
 * reader never sees a partial chunk, even when writers race or a writer is killed.
 * Stores write the chunk as given: callers pass chunks whose id they computed or verified.
 */
export interface WriteStore extends Store {
  storeChunk(chunk: Chunk): Promise<void>;
}

/** A store whose chunks can be listed and removed (verify, prune). */
export interface PruneStore extends WriteStore {
  /** Every chunk id in the store, in no particular order; entries that are not chunks are skipped. */
  listChunks(signal?: AbortSignal): AsyncIterable<ChunkId>;
  /** Removes a chunk; removing a missing chunk rejects with ChunkMissing. */
  removeChunk(id: ChunkId): Promise<void>;
}

/** A store that can refresh a chunk's last-use time (a cache, so age-based pruning keeps it). */
export interface TouchStore extends Store {
  /** Marks the chunk as used now; may be repeated; touching a missing chunk rejects with ChunkMissing. */
  touchChunk(id: ChunkId): Promise<void>;
}

/**
 * A store whose chunks are files on this machine, one zstd frame per file (a local
 * directory store). Engines may read these files directly, in worker threads, instead of
 * calling getChunk: they then treat a missing file as ChunkMissing and verify the content
 * against the id exactly as a Chunk would.
 */
export interface FileStore extends Store {
  /** The file that holds chunk `id`, whether or not it exists. */
  chunkPath(id: ChunkId): string;
  /** True for stores of plain chunk files: they are not FileStores to engines (isFileStore). */
  readonly uncompressed?: boolean;
}

/** True when `store` keeps its chunks as zstd frames in local files. */
export function isFileStore(store: Store): store is FileStore {
  return typeof (store as FileStore).chunkPath === 'function' && (store as FileStore).uncompressed !== true;
}

/** True when `store` accepts writes. */
export function isWriteStore(store: Store): store is WriteStore {
  return typeof (store as WriteStore).storeChunk === 'function';
}

/** True when `store` can list and remove chunks. */
export function isPruneStore(store: Store): store is PruneStore {
  return (
    isWriteStore(store) &&
    typeof (store as PruneStore).listChunks === 'function' &&
    typeof (store as PruneStore).removeChunk === 'function'
  );
}

/** True when `store` can touch chunks. */
export function isTouchStore(store: Store): store is TouchStore {
  return typeof (store as TouchStore).touchChunk === 'function';
}
