import { type ChunkId, chunkIdFromBytes, chunkIdToBytes } from '@desync/core';

/** Chunk size limits recorded in an index header. */
export interface IndexChunkSizes {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

/** One entry of an index: the chunk at [start, start + size) of the blob. */
export interface IndexChunk {
  readonly start: number;
  readonly size: number;
  readonly id: ChunkId;
}

/**
 * The content of a .caibx or .caidx file: header fields and the chunk table, held
 * compactly (40 bytes a chunk) so large indexes stay small in memory.
 */
export class ChunkIndex {
  /** casync feature flags of the header (a 64-bit bit set). */
  readonly featureFlags: bigint;
  readonly chunkSizes: IndexChunkSizes;
  private readonly ends: Float64Array;
  private readonly idBytes: Uint8Array;

  constructor(options: {
    featureFlags: bigint;
    chunkSizes: IndexChunkSizes;
    /** End offset of each chunk, increasing. */
    ends: Float64Array;
    /** 32 bytes per chunk. */
    ids: Uint8Array;
  }) {
    this.featureFlags = options.featureFlags;
    this.chunkSizes = options.chunkSizes;
    this.ends = options.ends;
    this.idBytes = options.ids;
  }

  /** Builds an index from a list of chunks that follow each other from offset 0. */
  static fromChunks(
    chunks: readonly IndexChunk[],
    featureFlags: bigint,
    chunkSizes: IndexChunkSizes,
  ): ChunkIndex {
    const ends = new Float64Array(chunks.length);
    const ids = new Uint8Array(chunks.length * 32);
    chunks.forEach((c, i) => {
      ends[i] = c.start + c.size;
      ids.set(chunkIdToBytes(c.id), i * 32);
    });
    return new ChunkIndex({ featureFlags, chunkSizes, ends, ids });
  }

  /** Number of chunks. */
  get length(): number {
    return this.ends.length;
  }

  /** Size of the blob (or archive stream) the index describes. */
  get blobSize(): number {
    return this.ends.length === 0 ? 0 : this.ends[this.ends.length - 1];
  }

  /** The i-th chunk. */
  chunk(i: number): IndexChunk {
    const start = i === 0 ? 0 : this.ends[i - 1];
    return { start, size: this.ends[i] - start, id: this.id(i) };
  }

  /** The id of the i-th chunk. */
  id(i: number): ChunkId {
    return chunkIdFromBytes(this.idBytes.subarray(i * 32, i * 32 + 32));
  }

  /** End offset of the i-th chunk. */
  end(i: number): number {
    return this.ends[i];
  }

  /** Every raw id, 32 bytes each, in index order (a view, not a copy). */
  allIdBytes(): Uint8Array {
    return this.idBytes;
  }

  /** Raw 32-byte id of the i-th chunk (a view, not a copy). */
  idBytesAt(i: number): Uint8Array {
    return this.idBytes.subarray(i * 32, i * 32 + 32);
  }

  /** Index of the chunk holding byte `offset`, or -1 when past the end. */
  chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.ends.length - 1;
    if (offset < 0 || hi < 0 || offset >= this.ends[hi]) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  *[Symbol.iterator](): Iterator<IndexChunk> {
    for (let i = 0; i < this.ends.length; i++) yield this.chunk(i);
  }
}
