import type { StoreOpenOptions, StoreScheme } from '@desync/core';
import type { HttpStoreOptions } from './http-store.js';

function storeOptions(url: string, options: StoreOpenOptions): HttpStoreOptions {
  return {
    url,
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    insecure: options.insecure,
    caCert: options.caCert,
    clientCert: options.clientCert,
    clientKey: options.clientKey,
    httpAuth: options.httpAuth,
    uncompressed: options.uncompressed,
  };
}

/**
 * The registry entry for `http://` and `https://` stores. It passes the StoreOpenOptions
 * (`-n`, `--timeout`, `--error-retry`, `-t`, `--ca-cert`, `--client-cert`, `--client-key`,
 * `--http-auth`) to HttpStore. Register it with `registerStoreScheme(httpStoreScheme)` from
 * `@desync/core`. Node's HTTP client loads only when a store is opened: importing the scheme
 * (`@desync/store-http/scheme`) costs a command that never uses HTTP nothing.
 */
export const httpStoreScheme: StoreScheme = {
  name: 'http',
  matches: (location) => /^https?:\/\//i.test(location),
  open: async (location, options) => {
    const { HttpStore } = await import('./http-store.js');
    return new HttpStore(storeOptions(location, options));
  },
  // An index URL: fetched with the settings of a store at its directory.
  readFile: async (location, options) => {
    const { HttpStore } = await import('./http-store.js');
    const store = new HttpStore(storeOptions(new URL('.', location).href, options));
    try {
      return await store.getFile(new URL(location));
    } finally {
      await store.close();
    }
  },
};
