export { rawZstdFrame } from './raw-zstd-frame.js';
export type { StoreConformanceOptions } from './store-conformance.js';
export { describeStoreConformance } from './store-conformance.js';
