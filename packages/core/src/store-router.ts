import type { Chunk } from './chunk.js';
import type { ChunkId } from './chunk-id.js';
import { ChunkMissing, InvalidArgument } from './errors.js';
import type { GetChunkOptions, Store } from './store.js';

/**
 * Asks stores in the order given (the order of `-s`): the first that has a chunk serves
 * it. A missing chunk moves on to the next store; any other error stops and is reported,
 * naming the store that failed.
 */
export class StoreRouter implements Store {
  readonly stores: readonly Store[];

  constructor(stores: readonly Store[]) {
    if (stores.length === 0) throw new InvalidArgument('no store given; use -s STORE');
    this.stores = stores;
  }

  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    for (const store of this.stores) {
      try {
        return await store.getChunk(id, options);
      } catch (err) {
        if (err instanceof ChunkMissing) continue;
        throw err;
      }
    }
    throw new ChunkMissing(id, this.toString());
  }

  async hasChunk(id: ChunkId): Promise<boolean> {
    for (const store of this.stores) {
      if (await store.hasChunk(id)) return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.close()));
  }

  toString(): string {
    return this.stores.length === 1 ? this.stores[0].toString() : this.stores.map(String).join(', ');
  }
}
