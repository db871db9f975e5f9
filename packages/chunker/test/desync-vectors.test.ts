import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chunkSizesOf, DEFAULT_CHUNK_SIZES } from '../src/index.js';
import { referenceChunkSizes } from './casync-reference.js';
import { chunkFileAll, serialChunksOf } from './file-chunks.js';
import { readCaibx } from './read-caibx.js';

// desync's own chunker vector (test/fixtures/LICENSE.md): 1 MiB of input and the casync
// index of it with default sizes, i.e. the boundaries and ids casync finds.
const inputPath = fileURLToPath(new URL('./fixtures/chunker.input', import.meta.url));
const indexPath = fileURLToPath(new URL('./fixtures/chunker.index', import.meta.url));

describe('desync’s chunker test vector', () => {
  it('was made with casync’s default sizes', async () => {
    const index = await readCaibx(indexPath);
    expect({ min: index.min, avg: index.avg, max: index.max }).toEqual(DEFAULT_CHUNK_SIZES);
  });

  it('gives the boundaries and ids of chunker.index, serially', async () => {
    const [data, index] = await Promise.all([readFile(inputPath), readCaibx(indexPath)]);
    expect(index.chunks.length).toBeGreaterThan(1);
    expect(serialChunksOf(data, DEFAULT_CHUNK_SIZES)).toEqual(index.chunks);
  });

  it('gives the boundaries of chunker.index with the reference chunker too', async () => {
    const [data, index] = await Promise.all([readFile(inputPath), readCaibx(indexPath)]);
    const expected = index.chunks.map((c) => c.size);
    expect(referenceChunkSizes(data, DEFAULT_CHUNK_SIZES)).toEqual(expected);
    expect(chunkSizesOf(data, DEFAULT_CHUNK_SIZES)).toEqual(expected);
  });

  it('gives the boundaries and ids of chunker.index in parallel sections', async () => {
    const index = await readCaibx(indexPath);
    // 1 byte forces the smallest sections (2 MiB for these sizes): one section here.
    for (const concurrency of [1, 2]) {
      expect(await chunkFileAll(inputPath, { sectionSize: 1, concurrency })).toEqual(index.chunks);
    }
  });
});
