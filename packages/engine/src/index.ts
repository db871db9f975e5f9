export type { ArchiveSourceOptions, ArchiveToTarOptions, ExtractArchiveOptions } from './archive-ops.js';
export {
  archiveToTar,
  extractArchive,
  isIndexFile,
  listArchive,
  openArchiveStream,
  writeStreamTo,
} from './archive-ops.js';
export type { ListFileChunksOptions } from './chunk-list.js';
export { listFileChunks } from './chunk-list.js';
export type { ExtractBlobOptions, ExtractBlobResult } from './extract-blob.js';
export { extractBlob } from './extract-blob.js';
export type { ChunkSizeStats, IndexInfo, IndexInfoOptions } from './index-info.js';
export { featureFlagNames, indexInfo } from './index-info.js';
export { loadIndex } from './load-index.js';
export type {
  MakeArchiveIndexOptions,
  MakeArchiveIndexResult,
  MakeArchiveOptions,
} from './make-archive.js';
export { makeArchive, makeArchiveIndex } from './make-archive.js';
export type { MakeBlobOptions, MakeBlobResult } from './make-blob.js';
export { makeBlob } from './make-blob.js';
export type { OpenStoreChainOptions, StoreOpenResolver } from './open-stores.js';
export { openStoreChain, openStoreLocation, openWriteStore } from './open-stores.js';
export type { Progress } from './progress.js';
export { NO_PROGRESS } from './progress.js';
export type { ReadBlobOptions } from './read-blob.js';
export { readBlob } from './read-blob.js';
export type { SeedChunks, SeedLocation, SeedSpec } from './seeds.js';
export { openSeeds, parseSeedArgument } from './seeds.js';
export type {
  ChopFileOptions,
  FillCacheOptions,
  PruneStoreOptions,
  VerifyStoreOptions,
  VerifyStoreResult,
} from './store-ops.js';
export { chopFile, fillCache, pruneStore, uniqueChunkIds, verifyStore } from './store-ops.js';
export type { ChunkMismatch, VerifyIndexOptions, VerifyIndexResult } from './verify-index.js';
export { verifyIndex } from './verify-index.js';
export { prewarmEngineWorkers } from './worker-pool.js';
