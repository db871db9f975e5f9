import { writeFile } from 'node:fs/promises';
import { checkSize } from './check-size.js';
import { Prng } from './prng.js';

// 1 MiB is a multiple of 4, so pieces continue one word stream: any prefix equals randomBytes.
const PIECE_SIZE = 1 << 20;

/** `size` incompressible bytes, the same for the same seed. Holds them all in memory: keep it small. */
export function randomBytes(size: number, seed: number): Buffer {
  checkSize(size);
  // allocUnsafeSlow owns its ArrayBuffer, so the fill takes the aligned fast path.
  const bytes = Buffer.allocUnsafeSlow(size);
  new Prng(seed).fill(bytes);
  return bytes;
}

/**
 * Yields `size` incompressible bytes in 1 MiB pieces; the first n bytes equal randomBytes(n, seed).
 * Each piece is a new buffer, so consumers may keep it.
 */
export function* generateRandom(size: number, seed: number): Generator<Uint8Array> {
  checkSize(size);
  const prng = new Prng(seed);
  for (let left = size; left > 0; left -= PIECE_SIZE) {
    const piece = Buffer.allocUnsafeSlow(Math.min(PIECE_SIZE, left));
    prng.fill(piece);
    yield piece;
  }
}

/** Writes generateRandom(size, seed) to `path` (created or truncated) with bounded memory. */
export async function writeRandomFile(path: string, size: number, seed: number): Promise<void> {
  await writeFile(path, generateRandom(size, seed));
}
