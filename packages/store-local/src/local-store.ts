import type { Dirent } from 'node:fs';
import { readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import {
  Chunk,
  type ChunkId,
  ChunkMissing,
  describeSystemError,
  type FileStore,
  type GetChunkOptions,
  InvalidArgument,
  isChunkId,
  makeDirs,
  type PruneStore,
  StoreError,
  type TouchStore,
  tempPathFor,
} from '@desync/core';

/** Options of a LocalStore. */
export interface LocalStoreOptions {
  /**
   * The store directory (absolute or relative to the working directory). It need not exist:
   * a missing directory reads as an empty store and is created, with its parents, by the
   * first write.
   */
  path: string;
  /**
   * Keep chunks uncompressed, as desync's `uncompressed` store option does: plain bytes in
   * `<4 hex>/<id>` (no suffix). Default false (zstd frames in `<id>.cacnk`, casync's layout).
   */
  uncompressed?: boolean;
}

/** The suffix of a zstd-compressed chunk file (casync cautil.c ca_compressed_chunk_suffix). */
const CHUNK_SUFFIX = '.cacnk';
const CHUNK_FILE = /^([0-9a-f]{64})\.cacnk$/;
// desync's UncompressedChunkExt is empty: the file is named by the id alone.
const PLAIN_CHUNK_FILE = /^([0-9a-f]{64})$/;
const PREFIX_DIR = /^[0-9a-f]{4}$/;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A chunk store in a local directory, in casync's layout: each chunk is a zstd frame in
 * `<store>/<first 4 hex digits of the id>/<id>.cacnk`, so casync, desync and this store
 * share directories.
 *
 * Writes go to a temp file beside the chunk (`.<id>.cacnk.<pid>.<random>.tmp`) and are
 * renamed into place: rename is atomic within a directory, so readers and concurrent
 * writers, in this process or others, see a chunk whole or not at all, and a killed writer
 * leaves only a temp file that listChunks skips. Files are not fsynced: a power loss can
 * leave a truncated chunk, which reads then report as ChunkInvalid (bytes are verified
 * against the id), and `verify -r` removes.
 *
 * Reads are not verified here: getChunk returns the frame, and the Chunk checks it against
 * its id when its plain bytes are first read.
 */
export class LocalStore implements PruneStore, TouchStore, FileStore {
  /** The store directory, as given. */
  readonly path: string;
  /** Chunks are plain files (no zstd): engines must not read them as frames. */
  readonly uncompressed: boolean;
  /** The normalized directory with its separator, and the chunk file suffix: join's result. */
  readonly #prefix: string;
  readonly #suffix: string;

  constructor(options: LocalStoreOptions) {
    if (options.path === '') throw new InvalidArgument('a local store needs a directory path');
    this.path = options.path;
    this.uncompressed = options.uncompressed ?? false;
    this.#prefix = join(this.path, 'x').slice(0, -1);
    this.#suffix = this.uncompressed ? '' : CHUNK_SUFFIX;
  }

  /**
   * The file that holds (or would hold) chunk `id`. Throws InvalidArgument for a string that
   * is not a chunk id, so an id taken from a request can never name a path outside the store.
   */
  chunkPath(id: ChunkId): string {
    if (!isChunkId(id)) {
      throw new InvalidArgument(`invalid chunk id '${id}': expected 64 lowercase hex characters`);
    }
    // What join would give (an id is hex, nothing to normalize) without normalizing the store
    // path again: extract asks for every chunk's path, and join costs ~10 µs a call.
    return `${this.#prefix}${id.slice(0, 4)}${sep}${id}${this.#suffix}`;
  }

  /** Reads the chunk file; a missing file (or store directory) rejects with ChunkMissing. */
  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const file = this.chunkPath(id);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file, { signal });
    } catch (err) {
      // readFile rejects with its own AbortError; the Store contract promises the reason.
      signal?.throwIfAborted();
      if (errnoCode(err) === 'ENOENT') throw new ChunkMissing(id, this.path, { cause: err });
      throw this.failure(`cannot read chunk ${id}`, err);
    }
    const origin = { source: this.path, expectedSize: options?.expectedSize };
    return this.uncompressed
      ? Chunk.fromUnverifiedPlain(id, bytes, origin)
      : Chunk.fromCompressed(id, bytes, origin);
  }

  /** Whether the chunk file exists, by stat: nothing is read. */
  async hasChunk(id: ChunkId): Promise<boolean> {
    const file = this.chunkPath(id);
    try {
      return (await stat(file)).isFile();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw this.failure(`cannot look up chunk ${id}`, err);
    }
  }

  /** Writes the chunk's zstd frame unless the store has it already (then nothing is written). */
  async storeChunk(chunk: Chunk): Promise<void> {
    if (await this.hasChunk(chunk.id)) return;
    const file = this.chunkPath(chunk.id);
    const dir = join(this.path, chunk.id.slice(0, 4));
    const data = this.uncompressed ? await chunk.plainData() : await chunk.compressedData();
    const tmp = tempPathFor(file);
    try {
      await makeDirs(dir);
      await writeFile(tmp, data, { flag: 'wx' });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // Where rename cannot replace a file another process holds open (Windows EPERM), that
      // process stored the same chunk first, which is all that was asked.
      if (await this.hasChunk(chunk.id).catch(() => false)) return;
      throw this.failure(`cannot write chunk ${chunk.id}`, err);
    }
  }

  /** Marks the chunk as used now (its mtime), for pruning a cache by age. */
  async touchChunk(id: ChunkId): Promise<void> {
    const file = this.chunkPath(id);
    const now = new Date();
    try {
      await utimes(file, now, now);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ChunkMissing(id, this.path, { cause: err });
      throw this.failure(`cannot touch chunk ${id}`, err);
    }
  }

  /**
   * Yields the id of every `<4 hex>/<id>.cacnk` file whose directory matches its id; temp
   * files, other names and misplaced chunks are skipped. A missing store directory lists
   * nothing, as it reads as empty.
   */
  async *listChunks(signal?: AbortSignal): AsyncIterable<ChunkId> {
    signal?.throwIfAborted();
    const prefixes = await this.readDir(this.path);
    for (const prefix of prefixes) {
      if (!prefix.isDirectory() || !PREFIX_DIR.test(prefix.name)) continue;
      signal?.throwIfAborted();
      // A prefix directory removed while listing (prune in another process) holds nothing.
      const entries = await this.readDir(join(this.path, prefix.name));
      for (const entry of entries) {
        signal?.throwIfAborted();
        const match = (this.uncompressed ? PLAIN_CHUNK_FILE : CHUNK_FILE).exec(entry.name);
        if (!match || !entry.isFile() || !match[1].startsWith(prefix.name)) continue;
        yield match[1] as ChunkId;
      }
    }
  }

  /**
   * Deletes the chunk file. Its prefix directory stays even when empty: removing it would
   * race a writer that has just created it for another chunk.
   */
  async removeChunk(id: ChunkId): Promise<void> {
    const file = this.chunkPath(id);
    try {
      await unlink(file);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ChunkMissing(id, this.path, { cause: err });
      throw this.failure(`cannot remove chunk ${id}`, err);
    }
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {}

  /** The store path, as given. */
  toString(): string {
    return this.path;
  }

  private async readDir(dir: string): Promise<Dirent[]> {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw this.failure(`cannot list ${dir}`, err);
    }
  }

  private failure(what: string, err: unknown): StoreError {
    return new StoreError(this.path, `${what}: ${describeSystemError(err)}`, { cause: err });
  }
}
