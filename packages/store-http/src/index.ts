export type { HttpStoreOptions } from './http-store.js';
export { HttpStore } from './http-store.js';
export { httpStoreScheme } from './http-store-scheme.js';
