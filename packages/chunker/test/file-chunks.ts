import { digestChunk } from '@desync/core';
import {
  type ChunkFileOptions,
  type ChunkRecord,
  type ChunkSizes,
  chunkFile,
  chunkSizesOf,
} from '../src/index.js';

/** The serial chunker's chunks of `data`, with ids: what chunkFile must yield. */
export function serialChunksOf(data: Uint8Array, sizes: ChunkSizes): ChunkRecord[] {
  const out: ChunkRecord[] = [];
  let start = 0;
  for (const size of chunkSizesOf(data, sizes)) {
    out.push({ start, size, id: digestChunk(data.subarray(start, start + size)) });
    start += size;
  }
  return out;
}

/** Every chunk chunkFile yields for `path`, its batches joined. */
export async function chunkFileAll(path: string, options?: ChunkFileOptions): Promise<ChunkRecord[]> {
  const out: ChunkRecord[] = [];
  for await (const batch of chunkFile(path, options)) out.push(...batch);
  return out;
}
