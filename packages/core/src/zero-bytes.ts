// Runs of zero bytes, found at memcmp speed (disk images are full of them), and the ids of
// all-zero chunks.
import { createHash } from 'node:crypto';

// Zero runs are checked this many bytes per memcmp.
const ZERO_STEP = 4096;
const ZEROS = new Uint8Array(ZERO_STEP);

/**
 * How far from `from` (up to `to`) `buf` holds only zeros, to a whole step of ZERO_STEP bytes
 * or `to`: `from` when the first step is not all zeros.
 */
export function zeroRunEnd(buf: Uint8Array, from: number, to: number): number {
  let at = from;
  while (at < to) {
    const n = Math.min(ZERO_STEP, to - at);
    if (Buffer.compare(buf.subarray(at, at + n), n === ZERO_STEP ? ZEROS : ZEROS.subarray(0, n)) !== 0) break;
    at += n;
  }
  return at;
}

/** True when `buf[at, at + size)` holds only zeros (memcmp, stopping at the first other byte). */
export function isAllZero(buf: Uint8Array, at = 0, size = buf.length - at): boolean {
  return zeroRunEnd(buf, at, at + size) === at + size;
}

const zeroIds = new Map<number, Buffer>();

/**
 * The SHA512/256 of `size` zero bytes: the id of an all-zero chunk of that size (kept per
 * size; the Buffer is shared, do not modify it).
 */
export function zeroChunkDigest(size: number): Buffer {
  let id = zeroIds.get(size);
  if (!id) {
    const hash = createHash('sha512-256');
    for (let left = size; left > 0; left -= ZERO_STEP)
      hash.update(ZEROS.subarray(0, Math.min(ZERO_STEP, left)));
    id = hash.digest();
    // Sizes other than max are rare (a file's last chunk, a run that ends a chunk early).
    if (zeroIds.size >= 64) zeroIds.clear();
    zeroIds.set(size, id);
  }
  return id;
}
