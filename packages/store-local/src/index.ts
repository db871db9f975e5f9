export type { LocalStoreOptions } from './local-store.js';
export { LocalStore } from './local-store.js';
export { localStoreScheme } from './local-store-scheme.js';
