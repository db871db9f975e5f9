export type { BlobReaderOptions } from './blob-reader.js';
export { BlobReader, DEFAULT_CACHE_BYTES } from './blob-reader.js';
export type { IndexMount, MountIndexOptions } from './mount-index.js';
export { isArchiveIndex, mountIndex } from './mount-index.js';
