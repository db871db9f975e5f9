import type { Chunk } from './chunk.js';
import type { ChunkId } from './chunk-id.js';
import { ChunkMissing } from './errors.js';
import { type GetChunkOptions, isTouchStore, type Store, type WriteStore } from './store.js';

/** Options of a CacheStore. */
export interface CacheStoreOptions {
  /** The store asked first and filled on a miss (`-c`). */
  cache: WriteStore;
  /** Where chunks come from when the cache lacks them (usually a StoreRouter). */
  backend: Store;
}

/**
 * A cache in front of other stores. A hit is served from the cache (and touched, so the
 * cache can be pruned by age); a miss is fetched from the backend, verified, and written
 * to the cache before it is returned, so a corrupt remote chunk never enters the cache.
 */
export class CacheStore implements Store {
  readonly cache: WriteStore;
  readonly backend: Store;

  constructor(options: CacheStoreOptions) {
    this.cache = options.cache;
    this.backend = options.backend;
  }

  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    try {
      const chunk = await this.cache.getChunk(id, options);
      if (isTouchStore(this.cache)) await this.cache.touchChunk(id).catch(() => undefined);
      return chunk;
    } catch (err) {
      if (!(err instanceof ChunkMissing)) throw err;
    }
    const chunk = await this.backend.getChunk(id, options);
    await chunk.plainData();
    await this.cache.storeChunk(chunk);
    return chunk;
  }

  async hasChunk(id: ChunkId): Promise<boolean> {
    return (await this.cache.hasChunk(id)) || this.backend.hasChunk(id);
  }

  async close(): Promise<void> {
    await Promise.all([this.cache.close(), this.backend.close()]);
  }

  toString(): string {
    return `${this.backend} (cache ${this.cache})`;
  }
}
