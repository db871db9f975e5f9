export type { ArchiveSourceOptions, ExtractArchiveOptions } from './archive-ops.js';
export { extractArchive, isIndexFile, listArchive, openArchiveStream } from './archive-ops.js';
export type { ListFileChunksOptions } from './chunk-list.js';
export { listFileChunks } from './chunk-list.js';
export type { ExtractBlobOptions, ExtractBlobResult } from './extract-blob.js';
export { extractBlob } from './extract-blob.js';
export type {
  MakeArchiveIndexOptions,
  MakeArchiveIndexResult,
  MakeArchiveOptions,
} from './make-archive.js';
export { makeArchive, makeArchiveIndex } from './make-archive.js';
export type { MakeBlobOptions, MakeBlobResult } from './make-blob.js';
export { makeBlob } from './make-blob.js';
export type { OpenStoreChainOptions } from './open-stores.js';
export { openStoreChain, openWriteStore } from './open-stores.js';
export type { Progress } from './progress.js';
export { NO_PROGRESS } from './progress.js';
export type { ReadBlobOptions } from './read-blob.js';
export { readBlob } from './read-blob.js';
export type {
  ChopFileOptions,
  FillCacheOptions,
  PruneStoreOptions,
  VerifyStoreOptions,
  VerifyStoreResult,
} from './store-ops.js';
export { chopFile, fillCache, pruneStore, uniqueChunkIds, verifyStore } from './store-ops.js';
