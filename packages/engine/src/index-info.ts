import { type ChunkId, FeatureFlags, type Store } from '@desync/core';
import type { ChunkIndex, IndexChunkSizes } from '@desync/index-format';
import { forEachBounded } from './bounded.js';

/** Options of indexInfo. */
export interface IndexInfoOptions {
  index: ChunkIndex;
  /** When given, unique chunks are looked up here (hasChunk) and the missing ones counted. */
  store?: Store;
  /** Lookups in flight at once; default 10. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Chunk sizes in bytes. */
export interface ChunkSizeStats {
  min: number;
  /** Mean size, rounded down: blob size over chunk count. */
  avg: number;
  max: number;
}

/** What an index says about its blob, and what its stores lack. */
export interface IndexInfo {
  /** Chunks in the index, repeats included. */
  chunks: number;
  /** Distinct chunk ids. */
  uniqueChunks: number;
  /** Size of the blob (or archive stream) in bytes. */
  blobSize: number;
  /** Plain bytes of the distinct chunks: what a store holds for this index, before compression. */
  uniqueSize: number;
  /**
   * uniqueSize / blobSize: 1 when nothing repeats, lower the more chunks repeat; 1 for an
   * empty index.
   */
  dedupRatio: number;
  /** Sizes of the chunks actually in the table; all 0 for an empty index. */
  chunkSizes: ChunkSizeStats;
  /** min:avg:max the index header records (the chunker's parameters). */
  chunkSizeParams: IndexChunkSizes;
  /** The header's feature flags. */
  featureFlags: bigint;
  /** Names (casync caformat.h, without CA_FORMAT_) of the feature flags set. */
  features: string[];
  /** With a store: distinct chunks the store does not have, and their plain bytes. */
  missing?: { chunks: number; size: number };
}

/** Names of the feature flags set in `flags`, in bit order. */
export function featureFlagNames(flags: bigint): string[] {
  return Object.entries(FeatureFlags)
    .filter(([, bit]) => (flags & bit) !== 0n)
    .map(([name]) => name);
}

/** Counts, sizes and dedup of an index; with a store, what it lacks (desync info). */
export async function indexInfo(options: IndexInfoOptions): Promise<IndexInfo> {
  const { index } = options;
  // Plain size of each distinct chunk; a repeated id has the same content, so the same size.
  const unique = new Map<ChunkId, number>();
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let uniqueSize = 0;
  for (let i = 0; i < index.length; i++) {
    const { id, size } = index.chunk(i);
    if (size < min) min = size;
    if (size > max) max = size;
    if (!unique.has(id)) {
      unique.set(id, size);
      uniqueSize += size;
    }
  }
  const blobSize = index.blobSize;
  const info: IndexInfo = {
    chunks: index.length,
    uniqueChunks: unique.size,
    blobSize,
    uniqueSize,
    dedupRatio: blobSize === 0 ? 1 : uniqueSize / blobSize,
    chunkSizes:
      index.length === 0
        ? { min: 0, avg: 0, max: 0 }
        : { min, avg: Math.floor(blobSize / index.length), max },
    chunkSizeParams: { ...index.chunkSizes },
    featureFlags: index.featureFlags,
    features: featureFlagNames(index.featureFlags),
  };
  const { store } = options;
  if (store) {
    const missing = { chunks: 0, size: 0 };
    await forEachBounded(
      unique,
      options.concurrency ?? 10,
      async ([id, size]) => {
        if (await store.hasChunk(id)) return;
        missing.chunks++;
        missing.size += size;
      },
      options.signal,
    );
    info.missing = missing;
  }
  return info;
}
