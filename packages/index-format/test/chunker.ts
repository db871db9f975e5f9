// @desync/chunker is not a devDependency of this package yet (it is only needed to make
// indexes to compare with casync's), so the tests reach its sources by path, from this
// one file. Its worker threads load from packages/chunker/dist: build it first.
export { type ChunkSizes, chunkFile, DEFAULT_CHUNK_SIZES } from '@desync/chunker';
