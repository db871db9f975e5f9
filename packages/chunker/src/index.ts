export { BoundaryScanner, chunkSizesOf } from './boundary-scanner.js';
export { BUZHASH_TABLE } from './buzhash-table.js';
export type { ChunkSizes } from './chunk-sizes.js';
export {
  CHUNK_SIZE_AVG_DEFAULT,
  CHUNK_SIZE_LIMIT_MAX,
  CHUNK_SIZE_LIMIT_MIN,
  DEFAULT_CHUNK_SIZES,
  discriminatorFor,
  parseChunkSizeSpec,
  resolveChunkSizes,
  WINDOW_SIZE,
} from './chunk-sizes.js';
export type { StreamChunk } from './chunk-stream.js';
export { chunkStream } from './chunk-stream.js';
export type { ChunkFileOptions, ChunkRecord, ChunkSink } from './parallel-chunker.js';
export { chunkFile, prewarmChunkWorkers } from './parallel-chunker.js';
export { prewarmWorkers, takeWorker, WORKER_OPTIONS, workerScriptUrl } from './worker-url.js';
