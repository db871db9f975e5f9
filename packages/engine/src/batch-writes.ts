// The main thread's part of extract: a worker's batch comes back as one buffer plus where each
// piece of it goes in the output.
import type { AllocateRange } from './allocate-range.js';
import { pwriteAll } from './pwrite-all.js';

/**
 * Allocates the file ranges a batch's pieces cover (`writes`: position in data, size, target
 * offset, per piece), pieces that meet in the file as one range: a repeated chunk's pieces
 * lie between the others'. Returns false when `allocate` cannot (stop asking).
 */
export function allocatePieces(fd: number, writes: Float64Array, allocate: AllocateRange): boolean {
  const ranges: [number, number][] = [];
  for (let i = 0; i < writes.length; i += 3) ranges.push([writes[i + 2] as number, writes[i + 1] as number]);
  ranges.sort((a, b) => a[0] - b[0]);
  let [from, size] = ranges[0] ?? [0, 0];
  for (let k = 1; k <= ranges.length; k++) {
    const next = ranges[k];
    if (next && next[0] <= from + size) {
      size = Math.max(size, next[0] + next[1] - from);
      continue;
    }
    if (!allocate(fd, from, size)) return false;
    if (next) [from, size] = next;
  }
  return true;
}

/**
 * Writes the pieces of a batch's buffer (`writes`: position in data, size, target offset,
 * per piece), pieces that follow each other in both in one run of writes.
 */
export function writePieces(fd: number, data: Uint8Array, writes: Float64Array): void {
  let i = 0;
  while (i < writes.length) {
    const at = writes[i] as number;
    const to = writes[i + 2] as number;
    let size = writes[i + 1] as number;
    i += 3;
    while (i < writes.length && writes[i] === at + size && writes[i + 2] === to + size) {
      size += writes[i + 1] as number;
      i += 3;
    }
    pwriteAll(fd, data, at, size, to);
  }
}
