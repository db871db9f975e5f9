import { writeFile } from 'node:fs/promises';
import { checkSize } from './check-size.js';

const PIECE_SIZE = 1 << 20;

/**
 * Yields `size` zero bytes. Pieces share one buffer to keep a 2 GB run allocation-free, so
 * consumers must neither mutate nor keep them.
 */
export function* generateZeros(size: number): Generator<Uint8Array> {
  checkSize(size);
  const zeros = new Uint8Array(Math.min(PIECE_SIZE, size));
  for (let left = size; left > 0; left -= PIECE_SIZE) {
    yield left >= PIECE_SIZE ? zeros : zeros.subarray(0, left);
  }
}

/**
 * Writes `size` zero bytes to `path` (created or truncated). The zeros are written, not left
 * as a hole, so readers pay for real I/O as they would with a disk image.
 */
export async function writeZeroFile(path: string, size: number): Promise<void> {
  await writeFile(path, generateZeros(size));
}
