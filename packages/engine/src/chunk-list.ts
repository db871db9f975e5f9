import { type ChunkRecord, type ChunkSizes, chunkFile } from '@desync/chunker';

/** Options of listFileChunks. */
export interface ListFileChunksOptions {
  input: string;
  chunkSizes?: ChunkSizes;
  concurrency?: number;
  signal?: AbortSignal;
}

/** The chunks of a file (start, size, id) without storing anything (`desync chunk`). */
export async function* listFileChunks(options: ListFileChunksOptions): AsyncGenerator<ChunkRecord> {
  for await (const batch of chunkFile(options.input, {
    sizes: options.chunkSizes,
    concurrency: options.concurrency,
    signal: options.signal,
  })) {
    yield* batch;
  }
}
