export type { CacheStoreOptions } from './cache-store.js';
export { CacheStore } from './cache-store.js';
export type { ChunkOrigin } from './chunk.js';
export { Chunk } from './chunk.js';
export { writeChunkFileSync } from './chunk-file.js';
export { type ChunkHasher, loadChunkHasher, opensslChunkHasher } from './chunk-hasher.js';
export type { ChunkId } from './chunk-id.js';
export { chunkIdFromBytes, chunkIdToBytes, digestChunk, isChunkId, parseChunkId } from './chunk-id.js';
export {
  Aborted,
  ChunkInvalid,
  ChunkMissing,
  DataMismatch,
  DesyncError,
  describeSystemError,
  EXIT_CODES,
  FileError,
  IndexFormatError,
  InvalidArgument,
  StoreError,
} from './errors.js';
export { FailoverStore, FailoverWriteStore, failoverStore } from './failover-store.js';
export { FeatureFlags } from './feature-flags.js';
export { makeDirs, makeDirsSync } from './make-dirs.js';
export { type OutputTarget, outputTarget, writesInPlace } from './output-target.js';
export type { FileStore, GetChunkOptions, PruneStore, Store, TouchStore, WriteStore } from './store.js';
export { isFileStore, isPruneStore, isTouchStore, isWriteStore } from './store.js';
export type { StoreOpenOptions, StoreScheme } from './store-registry.js';
export { openStore, registeredStoreSchemes, registerStoreScheme, storeSchemeFor } from './store-registry.js';
export { StoreRouter } from './store-router.js';
export { tempPathFor } from './temp-path.js';
export { writeOutput, writeToStdout } from './write-output.js';
export { isAllZero, zeroChunkDigest, zeroRunEnd } from './zero-bytes.js';
export type { ZstdCodec } from './zstd-codec.js';
export { availableCodecs, loadCodec, MAX_CHUNK_SIZE } from './zstd-codec.js';
export { isZstdFrame, zstdFrameContentSize, zstdFrameLength } from './zstd-frame.js';
