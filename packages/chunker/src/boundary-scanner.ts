import { zeroRunEnd } from '@desync/core';
import { BUZHASH_TABLE } from './buzhash-table.js';
import { WasmBuzhash } from './buzhash-wasm.js';
import { type ChunkSizes, discriminatorFor, WINDOW_SIZE } from './chunk-sizes.js';

// rol32(T[b], WINDOW_SIZE): the term that leaves the window; 48 mod 32 = 16.
// Int32 tables keep the hash in V8's integer representation (uint32 values above 2^31
// would turn it into doubles and slow the loop down several times).
const T = Int32Array.from(BUZHASH_TABLE);
const TABLE_OUT = T.map((v) => (v << 16) | (v >>> 16));
// Below this many bytes to test, the JS loop beats copying them into WebAssembly memory.
const WASM_MIN_BYTES = 4096;
// Below this many, the JS loop beats the call into WebAssembly for bytes already there.
const WASM_ZERO_COPY_MIN_BYTES = 64;

// The hash of a window of 48 zero bytes, as the first test computes it: rolling over a run of
// zeros leaves it unchanged.
const ZERO_WINDOW_HASH = (() => {
  let h = 0;
  const v = T[0] as number;
  for (let i = 0; i < WINDOW_SIZE - 1; i++) {
    const r = WINDOW_SIZE - 1 - i;
    h ^= (v << r) | (v >>> (32 - r));
  }
  return h ^ v;
})();
/**
 * Finds chunk boundaries exactly as casync's ca_chunker_scan does, restartable across
 * buffers for one chunk at a time.
 *
 * The buzhash of the 48 bytes before position c only depends on those bytes, so the
 * boundary test at chunk length c needs only buf[start+c-48, start+c): tests begin at
 * max(min, 48) (casync starts testing once its window is full and the chunk reaches min)
 * and a cut is forced at max. min == avg == max selects casync's fixed-size chunker.
 */
export class BoundaryScanner {
  readonly sizes: ChunkSizes;
  private readonly disc: number;
  private readonly cutTest: CutTest;
  private readonly firstTest: number;
  private readonly fixed: boolean;
  /** False when a window of zeros is itself a cut (then runs of zeros are scanned too). */
  private readonly zerosSkip: boolean;
  /** Chunk length already tested for the current chunk (0: not started). */
  private tested = 0;
  private h = 0;

  constructor(sizes: ChunkSizes) {
    this.sizes = sizes;
    this.disc = discriminatorFor(sizes);
    this.cutTest = cutTestFor(this.disc);
    this.fixed = sizes.min === sizes.avg && sizes.max === sizes.avg;
    this.firstTest = Math.max(sizes.min, WINDOW_SIZE);
    this.zerosSkip = !isCut(ZERO_WINDOW_HASH, this.cutTest);
  }

  /** Forgets the chunk in progress: the next scan starts a new chunk. */
  reset(): void {
    this.tested = 0;
    this.h = 0;
  }

  /**
   * Scans the chunk that starts at buf[start] with bytes available up to buf[end].
   * Returns its length when its boundary lies within the data, or -1 when more data is
   * needed (progress is kept: call again with the same start and a larger end, the
   * chunk's bytes still in place). At end of input the remaining bytes form the last chunk.
   */
  scan(buf: Uint8Array, start: number, end: number): number {
    const avail = end - start;
    const max = this.sizes.max;
    if (this.fixed) return avail >= max ? this.cut(max) : -1;
    let c = this.tested;
    let h = this.h;
    if (c === 0) {
      const first = this.firstTest;
      if (avail < first) return -1;
      // A max below the window: casync still fills its 48-byte window before it cuts.
      if (first >= max) return this.cut(first);
      h = 0;
      const w = start + first - WINDOW_SIZE;
      for (let i = 0; i < WINDOW_SIZE - 1; i++) {
        const v = T[buf[w + i]];
        const r = WINDOW_SIZE - 1 - i;
        h ^= (v << r) | (v >>> (32 - r));
      }
      h ^= T[buf[w + WINDOW_SIZE - 1]];
      if (isCut(h, this.cutTest)) return this.cut(first);
      c = first;
    }
    const { inv, shift, limit: lim, allOnes } = this.cutTest;
    // Test positions c+1 .. limit; position c's window is buf[start+c-48, start+c).
    const limit = Math.min(avail, max);
    let i = start + c;
    const stop = start + limit;
    // Inside a run of zeros (disk images hold long ones) the hash stays that of a zero window,
    // never a cut: skip to the run's end at memcmp speed instead of rolling over every byte.
    // The hash is only a hint; the window itself is checked.
    if (h === ZERO_WINDOW_HASH && this.zerosSkip && zeroRunEnd(buf, i - WINDOW_SIZE, i) === i) {
      i = zeroRunEnd(buf, i, stop);
    }
    const wasm = stop - i >= WASM_ZERO_COPY_MIN_BYTES ? WasmBuzhash.get() : null;
    if (wasm?.holds(buf)) {
      // buf lives in the module's memory (the chunk worker's block): scan it in place.
      const base = buf.byteOffset;
      let at = base + i;
      const end = base + stop;
      while (at < end) {
        const r = wasm.scanIn(at, end, h, inv, shift, lim);
        h = wasm.hash;
        if (r < 0) break;
        at = r;
        if (h !== -1 || allOnes) return this.cut(at - base - start);
      }
    } else if (wasm && stop - i >= WASM_MIN_BYTES) {
      // The same loop in WebAssembly, ~2.7x faster; it stops at each candidate cut.
      while (i < stop) {
        const n = wasm.scan(buf.subarray(i - WINDOW_SIZE, stop), h, inv, shift, lim);
        h = wasm.hash;
        if (n < 0) {
          i = stop;
          break;
        }
        i += n;
        if (h !== -1 || allOnes) return this.cut(i - start);
      }
    } else {
      const back = 32 - shift;
      while (i < stop) {
        h = ((h << 1) | (h >>> 31)) ^ TABLE_OUT[buf[i - WINDOW_SIZE]] ^ T[buf[i]];
        i++;
        // h mod disc == disc - 1, i.e. disc divides h + 1: one multiply and a rotate (see
        // cutTestFor), several times faster than %.
        const y = Math.imul((h + 1) | 0, inv);
        if (((y >>> shift) | (y << back)) >>> 0 <= lim && (h !== -1 || allOnes)) return this.cut(i - start);
      }
    }
    c = limit;
    if (c >= max) return this.cut(max);
    this.tested = c;
    this.h = h;
    return -1;
  }

  private cut(length: number): number {
    this.tested = 0;
    this.h = 0;
    return length;
  }
}

/**
 * casync's cut test, (h mod d) == d - 1 for uint32 h, as a divisibility test of h + 1
 * (Hacker's Delight 10-17): with d = d0 * 2^shift, d0 odd and inv = d0^-1 mod 2^32,
 * d divides x iff rotr(x * inv mod 2^32, shift) <= floor((2^32 - 1) / d). h + 1 wraps to
 * 0 for h = 2^32 - 1, whose answer is precomputed (`allOnes`).
 */
interface CutTest {
  inv: number;
  shift: number;
  limit: number;
  allOnes: boolean;
}

function cutTestFor(disc: number): CutTest {
  let shift = 0;
  let odd = disc;
  while (odd % 2 === 0) {
    odd /= 2;
    shift++;
  }
  // Newton's iteration doubles the correct low bits each step: 5 steps cover 32 bits.
  let inv = odd;
  for (let i = 0; i < 5; i++) inv = Math.imul(inv, 2 - Math.imul(odd, inv));
  return { inv, shift, limit: Math.floor(0xffffffff / disc), allOnes: 0xffffffff % disc === disc - 1 };
}

function isCut(h: number, t: CutTest): boolean {
  const y = Math.imul((h + 1) | 0, t.inv);
  return ((y >>> t.shift) | (y << (32 - t.shift))) >>> 0 <= t.limit && ((h | 0) !== -1 || t.allOnes);
}

/** Boundaries of a whole in-memory buffer: the size of each chunk, in order. */
export function chunkSizesOf(data: Uint8Array, sizes: ChunkSizes): number[] {
  const scanner = new BoundaryScanner(sizes);
  const out: number[] = [];
  let start = 0;
  while (start < data.length) {
    let n = scanner.scan(data, start, data.length);
    if (n < 0) n = data.length - start;
    out.push(n);
    start += n;
  }
  return out;
}
