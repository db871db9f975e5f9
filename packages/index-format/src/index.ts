export type { IndexChunk, IndexChunkSizes } from './chunk-index.js';
export { ChunkIndex } from './chunk-index.js';
export {
  BLOB_INDEX_FLAGS,
  CA_FORMAT_INDEX,
  CA_FORMAT_TABLE,
  CA_FORMAT_TABLE_TAIL_MARKER,
  FeatureFlags,
  KNOWN_FLAGS,
} from './format-constants.js';
export { parseIndex, readIndex } from './index-reader.js';
export type { IndexWriterOptions } from './index-writer.js';
export { encodeIndex, encodeIndexHead, encodeIndexTail, IndexWriter, writeIndex } from './index-writer.js';
