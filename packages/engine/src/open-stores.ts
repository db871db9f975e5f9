import {
  CacheStore,
  InvalidArgument,
  isWriteStore,
  openStore,
  type Store,
  type StoreOpenOptions,
  StoreRouter,
  type WriteStore,
} from '@desync/core';

/** Options of openStoreChain. */
export interface OpenStoreChainOptions {
  /** Store locations in the order they are asked (`-s`, repeatable). */
  stores: readonly string[];
  /** A writable store in front of them, filled on misses (`-c`). */
  cache?: string;
  open?: StoreOpenOptions;
}

/**
 * Opens the stores of `-s` (asked in order) behind an optional `-c` cache, with the store
 * adapters registered in core's registry.
 */
export async function openStoreChain(options: OpenStoreChainOptions): Promise<Store> {
  if (options.stores.length === 0) throw new InvalidArgument('no store given; use -s STORE');
  const stores = await Promise.all(options.stores.map((s) => openStore(s, options.open)));
  const router = new StoreRouter(stores);
  if (!options.cache) return router;
  const cache = await openStore(options.cache, options.open);
  if (!isWriteStore(cache)) throw new InvalidArgument(`the cache ${options.cache} cannot be written`);
  return new CacheStore({ cache, backend: router });
}

/** Opens one store that must accept writes (make, chop, cache). */
export async function openWriteStore(location: string, open?: StoreOpenOptions): Promise<WriteStore> {
  const store = await openStore(location, open);
  if (!isWriteStore(store)) throw new InvalidArgument(`the store ${location} cannot be written`);
  return store;
}
