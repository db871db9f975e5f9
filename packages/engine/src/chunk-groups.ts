import { randomBytes } from 'node:crypto';
import type { ChunkId } from '@desync/core';
import type { ChunkIndex } from '@desync/index-format';

/** One distinct chunk of the index and every place it goes (made when it is handed out). */
export interface Group {
  readonly id: ChunkId;
  /** Position in the index of the chunk's first appearance. */
  readonly first: number;
  readonly size: number;
  /** Every offset of the blob it goes to, in order. */
  readonly offsets: number[];
}

/**
 * The distinct chunks of an index in order of first appearance, held as two integers per
 * chunk of the index beside the index itself: one object per distinct chunk, kept for the
 * whole extraction, cost ~200 bytes a chunk (15 MB of a 4 GiB extract's peak RSS, more for
 * larger inputs) and, made all at once, pushed the main thread's young generation to its
 * maximum. A Group is made for each distinct chunk only when it is handed out.
 */
export class ChunkGroups {
  constructor(
    private readonly index: ChunkIndex,
    /** Index position of each distinct chunk's first appearance. */
    private readonly firsts: Int32Array,
    /** For each index position, the next position with the same id, or -1. */
    private readonly nexts: Int32Array,
  ) {}

  /** Number of distinct chunks. */
  get length(): number {
    return this.firsts.length;
  }

  /** Index position of the k-th distinct chunk's first appearance. */
  first(k: number): number {
    return this.firsts[k] as number;
  }

  size(k: number): number {
    const i = this.first(k);
    return this.index.end(i) - this.startOf(i);
  }

  id(k: number): ChunkId {
    return this.index.id(this.first(k));
  }

  /** How often the k-th distinct chunk appears in the index. */
  count(k: number): number {
    let n = 0;
    for (let i = this.first(k); i >= 0; i = this.nexts[i] as number) n++;
    return n;
  }

  hasId(k: number, bytes: Uint8Array): boolean {
    return Buffer.compare(this.index.idBytesAt(this.first(k)), bytes) === 0;
  }

  /** The k-th distinct chunk with its id and every offset. */
  group(k: number): Group {
    const first = this.first(k);
    const offsets: number[] = [];
    for (let i = first; i >= 0; i = this.nexts[i] as number) offsets.push(this.startOf(i));
    return { id: this.index.id(first), first, size: this.index.end(first) - this.startOf(first), offsets };
  }

  private startOf(i: number): number {
    return i === 0 ? 0 : this.index.end(i - 1);
  }
}

// Random odd multipliers of the id hash (multiply-shift over all eight 32-bit words of an
// id): an index crafted so that its ids collide would need them.
const HASH_MULTIPLIERS = new Int32Array(8).map(() => randomBytes(4).readInt32LE() | 1);

/**
 * Groups the chunks of `index` by id. Raw ids in an open-addressing table of typed arrays:
 * this runs once per extraction, on cold code, before the first batch can go (a Map of
 * objects took 16 ms for 8,000 chunks).
 */
export function groupChunks(index: ChunkIndex): ChunkGroups {
  const n = index.length;
  const ids = index.allIdBytes();
  // The ids as 32-bit words (copied only when the index's bytes are not 4-byte aligned).
  const words =
    ids.byteOffset % 4 === 0
      ? new Int32Array(ids.buffer, ids.byteOffset, ids.length / 4)
      : new Int32Array(Uint8Array.from(ids).buffer);
  let bits = 1;
  while (bits < 30 && 1 << bits < 2 * n) bits++;
  const mask = (1 << bits) - 1;
  const slots = new Int32Array(1 << bits); // group number + 1 of each distinct id; 0: free
  const firsts = new Int32Array(n);
  const lasts = new Int32Array(n); // last position seen of each group, to append to its chain
  const nexts = new Int32Array(n).fill(-1);
  let groups = 0;
  const m = HASH_MULTIPLIERS;
  for (let i = 0; i < n; i++) {
    const w = i * 8;
    const x =
      (Math.imul(words[w] as number, m[0] as number) +
        Math.imul(words[w + 1] as number, m[1] as number) +
        Math.imul(words[w + 2] as number, m[2] as number) +
        Math.imul(words[w + 3] as number, m[3] as number) +
        Math.imul(words[w + 4] as number, m[4] as number) +
        Math.imul(words[w + 5] as number, m[5] as number) +
        Math.imul(words[w + 6] as number, m[6] as number) +
        Math.imul(words[w + 7] as number, m[7] as number)) |
      0;
    let slot = x >>> (32 - bits);
    for (;;) {
      const taken = slots[slot] as number;
      if (taken === 0) {
        firsts[groups] = i;
        lasts[groups] = i;
        groups++;
        slots[slot] = groups;
        break;
      }
      const g = taken - 1;
      if (sameId(words, (firsts[g] as number) * 8, w)) {
        nexts[lasts[g] as number] = i;
        lasts[g] = i;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return new ChunkGroups(index, firsts.slice(0, groups), nexts);
}

function sameId(words: Int32Array, a: number, b: number): boolean {
  for (let k = 0; k < 8; k++) if (words[a + k] !== words[b + k]) return false;
  return true;
}
