import type { Chunk } from './chunk.js';
import type { ChunkId } from './chunk-id.js';
import { ChunkMissing, InvalidArgument } from './errors.js';
import { type GetChunkOptions, isWriteStore, type Store, type WriteStore } from './store.js';

/**
 * A failover group (`-s "http://a/|http://b/"`): members are mirrors expected to hold the same
 * chunks, and one of them, the active member, serves every request. When it fails for a
 * reason other than a missing chunk, the next member becomes active (round robin, remembered
 * for later requests, as desync's FailoverGroup does) and the request is retried there; once
 * every member failed, the last error is reported. A missing chunk is an answer, not a
 * failure: mirrors hold the same chunks, so asking the next one would only hide a bad index.
 */
export class FailoverStore implements Store {
  readonly stores: readonly Store[];
  #active = 0;

  constructor(stores: readonly Store[]) {
    if (stores.length === 0) throw new InvalidArgument('a failover group needs at least one store');
    this.stores = stores;
  }

  /** The member that serves requests now. */
  get active(): Store {
    return this.stores[this.#active];
  }

  getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    return this.withFailover((store) => store.getChunk(id, options), options?.signal);
  }

  hasChunk(id: ChunkId): Promise<boolean> {
    return this.withFailover((store) => store.hasChunk(id));
  }

  async close(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.close()));
  }

  toString(): string {
    return this.stores.map(String).join('|');
  }

  /** Runs `request` on the active member, failing over to the next on errors other than ChunkMissing. */
  protected async withFailover<T>(request: (store: Store) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.stores.length; attempt++) {
      const index = this.#active;
      try {
        return await request(this.stores[index]);
      } catch (err) {
        if (err instanceof ChunkMissing) throw err;
        // An aborted request says nothing about the member's health.
        if (signal?.aborted) throw err;
        lastError = err;
        this.failedAt(index);
      }
    }
    throw lastError;
  }

  /**
   * Moves on from member `index` after it failed. Concurrent requests may fail on the same
   * member: only the first moves the group on, so one outage skips one member, not several.
   */
  private failedAt(index: number): void {
    if (index === this.#active) this.#active = (this.#active + 1) % this.stores.length;
  }
}

/**
 * A failover group whose members all take writes (a cache or `make -s` on mirrors of one
 * backing store): a chunk is written to the active member, with the same failover.
 */
export class FailoverWriteStore extends FailoverStore implements WriteStore {
  declare readonly stores: readonly WriteStore[];

  constructor(stores: readonly WriteStore[]) {
    super(stores);
  }

  storeChunk(chunk: Chunk): Promise<void> {
    return this.withFailover((store) => (store as WriteStore).storeChunk(chunk));
  }
}

/** Groups `stores` for failover: writable when every member is. */
export function failoverStore(stores: readonly Store[]): FailoverStore {
  return stores.every(isWriteStore) ? new FailoverWriteStore(stores) : new FailoverStore(stores);
}
