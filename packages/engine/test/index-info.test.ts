import {
  type Chunk,
  type ChunkId,
  ChunkMissing,
  FeatureFlags,
  parseChunkId,
  type Store,
  StoreError,
} from '@desync/core';
import { ChunkIndex } from '@desync/index-format';
import { describe, expect, it } from 'vitest';
import { featureFlagNames, indexInfo } from '../src/index.js';

const A = parseChunkId('a'.repeat(64));
const B = parseChunkId('b'.repeat(64));
const C = parseChunkId('c'.repeat(64));

/** An index of chunks A(100) B(200) A(100) C(300) A(100): the counts below are by hand. */
function crafted(): ChunkIndex {
  const sizes: [ChunkId, number][] = [
    [A, 100],
    [B, 200],
    [A, 100],
    [C, 300],
    [A, 100],
  ];
  let start = 0;
  const chunks = sizes.map(([id, size]) => {
    const c = { start, size, id };
    start += size;
    return c;
  });
  return ChunkIndex.fromChunks(chunks, FeatureFlags.SHA512_256 | FeatureFlags.EXCLUDE_NODUMP, {
    min: 64,
    avg: 256,
    max: 1024,
  });
}

/** A store that has some ids and counts lookups. */
class IdStore implements Store {
  lookups: ChunkId[] = [];
  constructor(
    private readonly ids: ReadonlySet<ChunkId>,
    private readonly failOn?: ChunkId,
  ) {}
  async getChunk(id: ChunkId): Promise<Chunk> {
    throw new ChunkMissing(id, 'ids');
  }
  async hasChunk(id: ChunkId): Promise<boolean> {
    this.lookups.push(id);
    if (id === this.failOn) throw new StoreError('ids', 'connection reset');
    return this.ids.has(id);
  }
  async close(): Promise<void> {}
  toString(): string {
    return 'ids';
  }
}

describe('indexInfo', () => {
  it('counts chunks, unique chunks, sizes and dedup', async () => {
    const info = await indexInfo({ index: crafted() });
    expect(info).toEqual({
      chunks: 5,
      uniqueChunks: 3,
      blobSize: 800,
      uniqueSize: 600,
      dedupRatio: 600 / 800,
      chunkSizes: { min: 100, avg: 160, max: 300 },
      chunkSizeParams: { min: 64, avg: 256, max: 1024 },
      featureFlags: FeatureFlags.SHA512_256 | FeatureFlags.EXCLUDE_NODUMP,
      features: ['SHA512_256', 'EXCLUDE_NODUMP'],
    });
  });

  it('counts the unique chunks a store lacks, asking once per id', async () => {
    const store = new IdStore(new Set([B]));
    const info = await indexInfo({ index: crafted(), store, concurrency: 2 });
    expect(info.missing).toEqual({ chunks: 2, size: 400 });
    expect(store.lookups.sort()).toEqual([A, B, C]);
  });

  it('reports a store failure instead of counting the chunk missing', async () => {
    const store = new IdStore(new Set(), C);
    await expect(indexInfo({ index: crafted(), store })).rejects.toBeInstanceOf(StoreError);
  });

  it('describes an empty index with zeros and a ratio of 1', async () => {
    const empty = ChunkIndex.fromChunks([], 0n, { min: 1, avg: 2, max: 4 });
    const info = await indexInfo({ index: empty });
    expect(info.chunks).toBe(0);
    expect(info.blobSize).toBe(0);
    expect(info.dedupRatio).toBe(1);
    expect(info.chunkSizes).toEqual({ min: 0, avg: 0, max: 0 });
    expect(info.features).toEqual([]);
  });
});

describe('featureFlagNames', () => {
  it('names each bit set', () => {
    expect(featureFlagNames(FeatureFlags.WITH_16BIT_UIDS | FeatureFlags.WITH_XATTRS)).toEqual([
      'WITH_16BIT_UIDS',
      'WITH_XATTRS',
    ]);
  });
});
