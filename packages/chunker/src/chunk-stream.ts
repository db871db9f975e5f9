import { BoundaryScanner } from './boundary-scanner.js';
import { type ChunkSizes, DEFAULT_CHUNK_SIZES } from './chunk-sizes.js';

/** One chunk cut from a stream: where it starts, and its bytes. */
export interface StreamChunk {
  /** Offset of the chunk's first byte in the stream. */
  readonly start: number;
  /** The chunk's bytes (a copy the caller owns). */
  readonly data: Uint8Array;
}

/**
 * Cuts any byte source into casync's chunks, in order. Memory stays within max chunk
 * size plus one incoming block: only the chunk in progress is kept.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sizes: ChunkSizes = DEFAULT_CHUNK_SIZES,
): AsyncGenerator<StreamChunk> {
  const scanner = new BoundaryScanner(sizes);
  let buf = new Uint8Array(0);
  let start = 0; // current chunk's start in buf
  let end = 0; // bytes in buf
  let offset = 0; // stream offset of buf[start]
  for await (const block of source) {
    if (block.length === 0) continue;
    if (end + block.length > buf.length) {
      // Keep the chunk in progress; move it to the front of a (possibly larger) buffer.
      const keep = end - start;
      const next =
        keep + block.length > buf.length
          ? new Uint8Array(Math.max(keep + block.length, 2 * buf.length))
          : buf;
      if (next === buf) buf.copyWithin(0, start, end);
      else next.set(buf.subarray(start, end), 0);
      buf = next;
      start = 0;
      end = keep;
    }
    buf.set(block, end);
    end += block.length;
    for (;;) {
      const n = scanner.scan(buf, start, end);
      if (n < 0) break;
      yield { start: offset, data: buf.slice(start, start + n) };
      start += n;
      offset += n;
    }
  }
  if (end > start) yield { start: offset, data: buf.slice(start, end) };
}
