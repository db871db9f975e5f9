import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Chunk,
  type ChunkId,
  ChunkMissing,
  digestChunk,
  FeatureFlags,
  FileError,
  type Store,
} from '@desync/core';
import { ChunkIndex } from '@desync/index-format';
import { makeTempDir, randomBytes, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyIndex } from '../src/index.js';

const SIZES = [3000, 5000, 1000, 7000];

/** An index of `data` cut at SIZES, ids computed here (independent of the chunker). */
function indexOf(data: Uint8Array): ChunkIndex {
  let start = 0;
  const chunks = SIZES.map((size) => {
    const c = { start, size, id: digestChunk(data.subarray(start, start + size)) };
    start += size;
    return c;
  });
  return ChunkIndex.fromChunks(chunks, FeatureFlags.SHA512_256, { min: 64, avg: 4096, max: 8192 });
}

class IdStore implements Store {
  constructor(private readonly ids: ReadonlySet<ChunkId>) {}
  async getChunk(id: ChunkId): Promise<Chunk> {
    throw new ChunkMissing(id, 'ids');
  }
  async hasChunk(id: ChunkId): Promise<boolean> {
    return this.ids.has(id);
  }
  async close(): Promise<void> {}
  toString(): string {
    return 'ids';
  }
}

let dir: string;
let file: string;
let data: Buffer;
let index: ChunkIndex;
beforeEach(async () => {
  dir = await makeTempDir('engine-verify-index-');
  file = join(dir, 'blob');
  data = randomBytes(16000, 5);
  await writeFile(file, data);
  index = indexOf(data);
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('verifyIndex', () => {
  it('finds nothing wrong with the file the index describes', async () => {
    const r = await verifyIndex({ index, file });
    expect(r).toEqual({ chunks: 4, blobSize: 16000, fileSize: 16000, sizeDiffers: false });
  });

  it('names the first chunk holding a changed byte', async () => {
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from([data[8500] ^ 0xff]), 0, 1, 8500);
    await fh.close();
    const r = await verifyIndex({ index, file });
    expect(r.sizeDiffers).toBe(false);
    expect(r.mismatch).toMatchObject({ chunk: 2, offset: 8000, size: 1000, expected: index.id(2) });
    expect(r.mismatch?.actual).not.toBe(index.id(2));
  });

  it('reports a truncated file: the chunk it ends in, and the size', async () => {
    await truncate(file, 5000);
    const r = await verifyIndex({ index, file });
    expect(r.sizeDiffers).toBe(true);
    expect(r.fileSize).toBe(5000);
    expect(r.mismatch).toMatchObject({ chunk: 1, offset: 3000, size: 5000 });
    expect(r.mismatch?.actual).toBe(digestChunk(data.subarray(3000, 5000)));
  });

  it('reports extra bytes past the end as a size difference only', async () => {
    await writeFile(file, Buffer.concat([data, Buffer.from('tail')]));
    const r = await verifyIndex({ index, file });
    expect(r.sizeDiffers).toBe(true);
    expect(r.mismatch).toBeUndefined();
  });

  it('lists the chunks a store lacks, in index order', async () => {
    const r = await verifyIndex({ index, file, store: new IdStore(new Set([index.id(1)])) });
    expect(r.missing).toEqual([index.id(0), index.id(2), index.id(3)]);
  });

  it('fails with FileError on a missing file', async () => {
    await expect(verifyIndex({ index, file: join(dir, 'nope') })).rejects.toBeInstanceOf(FileError);
  });
});
