import { BUZHASH_TABLE, type ChunkSizes } from '../src/index.js';

// A literal, byte-at-a-time port of casync's chunker (src/cachunker.c and cachunker.h,
// systemd/casync), kept slow and close to the C so that it can be checked by eye: the
// fast BoundaryScanner is tested against it. Only the chunker's state machine is ported;
// cutmarks (unused by `casync make` on a blob) are left out.

/** cachunker.h CA_CHUNKER_WINDOW_SIZE. */
const CA_CHUNKER_WINDOW_SIZE = 48;

/**
 * casync util.h rol32: rotate left by i mod 32. `>>> 0` keeps every value a uint32, as
 * the C type is.
 */
function rol32(x: number, i: number): number {
  const r = i % 32;
  if (r === 0) return x >>> 0;
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/**
 * C's (size_t) cast of a double, as gcc compiles it on x86-64 (Debian's casync): the value
 * truncated toward zero; a negative value (undefined in C) wraps modulo 2^64, to a huge one.
 */
function toSizeT(x: number): number {
  const t = Math.trunc(x);
  return t < 0 ? 2 ** 64 + t : t;
}

/** cachunker.h CA_CHUNKER_DISCRIMINATOR_FROM_AVG: computed in double, cast to size_t. */
function discriminatorFromAvg(avg: number): number {
  return toSizeT(avg / (-1.42888852e-7 * avg + 1.33237515));
}

/** The state of casync's CaChunker, fed one byte per ca_chunker_scan call. */
export class CasyncReferenceChunker {
  private h = 0;
  private windowSize = 0;
  private chunkSize = 0;
  private readonly window = new Uint8Array(CA_CHUNKER_WINDOW_SIZE);
  private readonly chunkSizeMin: number;
  private readonly chunkSizeAvg: number;
  private readonly chunkSizeMax: number;
  readonly discriminator: number;

  /** ca_chunker_set_size with all three sizes given (non-zero, min <= avg <= max). */
  constructor(sizes: ChunkSizes) {
    if (!(sizes.min >= 1 && sizes.min <= sizes.avg && sizes.avg <= sizes.max)) {
      throw new RangeError(`invalid sizes ${sizes.min}:${sizes.avg}:${sizes.max}`);
    }
    this.chunkSizeMin = sizes.min;
    this.chunkSizeAvg = sizes.avg;
    this.chunkSizeMax = sizes.max;
    let discriminator = discriminatorFromAvg(sizes.avg);
    if (discriminator < sizes.min) discriminator = sizes.min;
    if (discriminator > sizes.max) discriminator = sizes.max;
    this.discriminator = discriminator;
  }

  /** ca_chunker_start: the buzhash of a full window. */
  private start(p: Uint8Array, n: number): number {
    this.windowSize = n;
    let q = 0;
    for (let i = 1; i < n; i++, q++) this.h = (this.h ^ rol32(BUZHASH_TABLE[p[q]], n - i)) >>> 0;
    this.h = (this.h ^ BUZHASH_TABLE[p[q]]) >>> 0;
    return this.h;
  }

  /** ca_chunker_roll: `leave` drops out of the window, `enter` comes in. */
  private roll(leave: number, enter: number): number {
    this.h = (rol32(this.h, 1) ^ rol32(BUZHASH_TABLE[leave], this.windowSize) ^ BUZHASH_TABLE[enter]) >>> 0;
    return this.h;
  }

  /** shall_break: forced at max, never below min, else the plain `%` test. */
  private shallBreak(v: number): boolean {
    if (this.chunkSize >= this.chunkSizeMax) return true;
    if (this.chunkSize < this.chunkSizeMin) return false;
    return v % this.discriminator === this.discriminator - 1;
  }

  private isFixedSize(): boolean {
    return this.chunkSizeMin === this.chunkSizeAvg && this.chunkSizeMax === this.chunkSizeAvg;
  }

  /**
   * ca_chunker_scan(c, &byte, 1): true when the chunk ends with this byte (casync returns
   * a position, here always 1), false for (size_t) -1.
   */
  scanByte(byte: number): boolean {
    if (this.isFixedSize()) {
      const fixedSize = this.chunkSizeAvg;
      this.chunkSize += 1;
      if (this.chunkSize < fixedSize) return false;
      return this.now();
    }
    let n = 1;
    if (this.windowSize < CA_CHUNKER_WINDOW_SIZE) {
      // Append to the window to make it full.
      this.window[this.windowSize] = byte;
      n -= 1;
      this.windowSize += 1;
      this.chunkSize += 1;
      if (this.windowSize < CA_CHUNKER_WINDOW_SIZE) return false;
      const v = this.start(this.window, this.windowSize);
      if (this.shallBreak(v)) return this.now();
    }
    let idx = this.chunkSize % CA_CHUNKER_WINDOW_SIZE;
    while (n > 0) {
      const v = this.roll(this.window[idx], byte);
      this.chunkSize++;
      if (this.shallBreak(v)) return this.now();
      this.window[idx++] = byte;
      if (idx === CA_CHUNKER_WINDOW_SIZE) idx = 0;
      n--;
    }
    return false;
  }

  /** The `now:` label: a cut, and the state reset for the next chunk. */
  private now(): boolean {
    this.h = 0;
    this.chunkSize = 0;
    this.windowSize = 0;
    return true;
  }
}

/**
 * The chunk sizes casync's chunker finds in `data`, one byte at a time; at the end of the
 * input the remaining bytes form the last chunk, as casync make writes them.
 */
export function referenceChunkSizes(data: Uint8Array, sizes: ChunkSizes): number[] {
  const chunker = new CasyncReferenceChunker(sizes);
  const out: number[] = [];
  let length = 0;
  for (const byte of data) {
    length++;
    if (chunker.scanByte(byte)) {
      out.push(length);
      length = 0;
    }
  }
  if (length > 0) out.push(length);
  return out;
}
