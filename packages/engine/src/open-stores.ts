import {
  CacheStore,
  failoverStore,
  InvalidArgument,
  isWriteStore,
  openStore,
  type Store,
  type StoreOpenOptions,
  StoreRouter,
  type WriteStore,
} from '@desync/core';

/**
 * Settings for opening store locations: one set for all, or a function giving each location
 * its own (the CLI's config file has per-store timeouts and credentials).
 */
export type StoreOpenResolver = StoreOpenOptions | ((location: string) => StoreOpenOptions);

/** Options of openStoreChain. */
export interface OpenStoreChainOptions {
  /**
   * Store locations in the order they are asked (`-s`, repeatable). A location holding `|`
   * (`http://a/|http://b/`) is a failover group of mirrors (see FailoverStore).
   */
  stores: readonly string[];
  /** A writable store in front of them, filled on misses (`-c`). */
  cache?: string;
  /** Settings for every location, or a function resolving them per location. Default none. */
  open?: StoreOpenResolver;
}

function optionsFor(location: string, open: StoreOpenResolver | undefined): StoreOpenOptions | undefined {
  return typeof open === 'function' ? open(location) : open;
}

/**
 * Opens one `-s` location: a plain location with the registered adapters, or a failover
 * group when it holds `|`. A `|` never appears in the URLs or paths the adapters take, as
 * in desync, so splitting on it first is safe.
 */
export async function openStoreLocation(location: string, open?: StoreOpenResolver): Promise<Store> {
  if (!location.includes('|')) return openStore(location, optionsFor(location, open));
  const members = location.split('|');
  if (members.some((m) => m === '')) {
    throw new InvalidArgument(`'${location}' has an empty member; write failover groups as "A|B"`);
  }
  const stores: Store[] = [];
  try {
    for (const member of members) stores.push(await openStore(member, optionsFor(member, open)));
  } catch (err) {
    await Promise.all(stores.map((s) => s.close()));
    throw err;
  }
  return failoverStore(stores);
}

/**
 * Opens the stores of `-s` (asked in order) behind an optional `-c` cache, with the store
 * adapters registered in core's registry.
 */
export async function openStoreChain(options: OpenStoreChainOptions): Promise<Store> {
  if (options.stores.length === 0) throw new InvalidArgument('no store given; use -s STORE');
  const stores = await Promise.all(options.stores.map((s) => openStoreLocation(s, options.open)));
  const router = new StoreRouter(stores);
  if (!options.cache) return router;
  const cache = await openStoreLocation(options.cache, options.open);
  if (!isWriteStore(cache)) throw new InvalidArgument(`the cache ${options.cache} cannot be written`);
  return new CacheStore({ cache, backend: router });
}

/** Opens one store that must accept writes (make, chop, cache). */
export async function openWriteStore(location: string, open?: StoreOpenResolver): Promise<WriteStore> {
  const store = await openStoreLocation(location, open);
  if (!isWriteStore(store)) throw new InvalidArgument(`the store ${location} cannot be written`);
  return store;
}
