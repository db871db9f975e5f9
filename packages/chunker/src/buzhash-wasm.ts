import { BUZHASH_TABLE } from './buzhash-table.js';

/**
 * The boundary scanner's inner loop as WebAssembly, compiled from wasm/buzhash.wat (hand
 * written; a test rebuilds it with wabt and compares). Measured on the project's 2-core
 * machine: ~820 MB/s on random data (8 bytes per loop iteration; 755 MB/s one at a time)
 * against ~360 MB/s for the same loop in TypeScript, identical cuts.
 */
const WASM_BASE64 =
  'AGFzbQEAAAABCwFgBn9/f39/fwF/AwIBAAUDAQABBgYBfwFBAAsHFQMGbWVtb3J5AgABaAMABHNjYW4AAAraBAHXBAECfyABQQdrIQcCQANAIAAgB04NASAAQTBrIQYgAkEBdyAGLQAAQQJ0KAKACCAALQAAQQJ0KAIAc3MhAiACQQFqIANsIAR4IAVNBEAgAiQAIABBAWoPCyACQQF3IAYtAAFBAnQoAoAIIAAtAAFBAnQoAgBzcyECIAJBAWogA2wgBHggBU0EQCACJAAgAEECag8LIAJBAXcgBi0AAkECdCgCgAggAC0AAkECdCgCAHNzIQIgAkEBaiADbCAEeCAFTQRAIAIkACAAQQNqDwsgAkEBdyAGLQADQQJ0KAKACCAALQADQQJ0KAIAc3MhAiACQQFqIANsIAR4IAVNBEAgAiQAIABBBGoPCyACQQF3IAYtAARBAnQoAoAIIAAtAARBAnQoAgBzcyECIAJBAWogA2wgBHggBU0EQCACJAAgAEEFag8LIAJBAXcgBi0ABUECdCgCgAggAC0ABUECdCgCAHNzIQIgAkEBaiADbCAEeCAFTQRAIAIkACAAQQZqDwsgAkEBdyAGLQAGQQJ0KAKACCAALQAGQQJ0KAIAc3MhAiACQQFqIANsIAR4IAVNBEAgAiQAIABBB2oPCyACQQF3IAYtAAdBAnQoAoAIIAAtAAdBAnQoAgBzcyECIAJBAWogA2wgBHggBU0EQCACJAAgAEEIag8LIABBCGohAAwACwsCQANAIAAgAU8NASACQQF3IABBMGstAABBAnQoAoAIIAAtAABBAnQoAgBzcyECIABBAWohACACQQFqIANsIAR4IAVNBEAgAiQAIAAPCwwACwsgAiQAQX8L';

/** Where the tables end: the caller's block (see block()), then the copy area, start here. */
export const WASM_DATA_OFFSET = 2048;
const PAGE = 65536;
/** Room for copying scans kept after a block, so that they rarely need to grow memory. */
const COPY_AREA = 1024 * 1024;

// The few WebAssembly APIs used here (TypeScript's lib without DOM does not declare them).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface BuzhashExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  h: { value: number };
  scan(i: number, stop: number, h: number, inv: number, shift: number, limit: number): number;
}

/**
 * One instance per thread (module scope). Its memory holds the tables, then an optional
 * block the caller reads into and scans in place (block()), then a copy area for scans of
 * other buffers.
 *
 * Growing a WebAssembly.Memory detaches every view of its old ArrayBuffer (their length
 * drops to 0); the bytes themselves stay. Memory grows in exactly two places: block(), when
 * asked for more than it reserved, and a copying scan whose range does not fit the copy
 * area (COPY_AREA bytes kept after the block; ranges are at most max + 48 bytes). So: a
 * caller that only scans its block never sees the view detached; a caller that also scans
 * other buffers must call block() again before using the block after such a scan (it
 * returns a fresh view of the same bytes).
 */
export class WasmBuzhash {
  private readonly exports: BuzhashExports;
  private bytes: Uint8Array;
  /** Bytes reserved for the caller's block at WASM_DATA_OFFSET (0: none). */
  private blockSize = 0;
  private blockView: Buffer | undefined;

  private constructor() {
    const module = new WebAssemblyApi.Module(Buffer.from(WASM_BASE64, 'base64'));
    this.exports = new WebAssemblyApi.Instance(module, {}).exports as BuzhashExports;
    const table = Int32Array.from(BUZHASH_TABLE);
    const words = new Int32Array(this.exports.memory.buffer);
    words.set(table, 0);
    // rol32(T[b], 48): the term that leaves the window.
    words.set(
      table.map((v) => (v << 16) | (v >>> 16)),
      256,
    );
    this.bytes = new Uint8Array(this.exports.memory.buffer);
  }

  private static instance: WasmBuzhash | null | undefined;
  /** Forces the TypeScript loop (tests run both; DESYNC_CHUNKER=js does it for a process). */
  static disabled = process.env.DESYNC_CHUNKER === 'js';

  /** The thread's instance, or null where WebAssembly cannot run (the caller falls back). */
  static get(): WasmBuzhash | null {
    if (WasmBuzhash.disabled) return null;
    if (WasmBuzhash.instance === undefined) {
      try {
        WasmBuzhash.instance = new WasmBuzhash();
      } catch {
        WasmBuzhash.instance = null;
      }
    }
    return WasmBuzhash.instance;
  }

  /** Grows memory to at least `need` bytes (detaching every earlier view, see the class). */
  private ensureMemory(need: number): void {
    if (need <= this.bytes.length) return;
    this.exports.memory.grow(Math.ceil((need - this.bytes.length) / PAGE));
    this.bytes = new Uint8Array(this.exports.memory.buffer);
  }

  /**
   * A Buffer over at least `size` bytes of the module's memory, reserved for the caller
   * (one block per thread: every call returns the same bytes, at the same place). Scans of
   * views into it read the bytes in place, without a copy. Growing the block keeps its
   * contents. See the class comment for when a returned view stops being valid.
   */
  block(size: number): Buffer {
    const view = this.blockView;
    if (size <= this.blockSize && view && view.buffer === this.exports.memory.buffer) return view;
    this.blockSize = Math.max(size, this.blockSize);
    this.ensureMemory(WASM_DATA_OFFSET + this.blockSize + COPY_AREA);
    this.blockView = Buffer.from(this.exports.memory.buffer, WASM_DATA_OFFSET, this.blockSize);
    return this.blockView;
  }

  /** True when `buf` is a view of this module's memory (a block): scanIn reads it in place. */
  holds(buf: Uint8Array): boolean {
    return buf.buffer === this.exports.memory.buffer;
  }

  /**
   * Rolls the hash from `h` over memory addresses [at, stop) in place, testing the cut after
   * each byte (the window is the 48 bytes before each; they must be in memory too). Returns
   * the address after the byte where a cut candidate was found, or -1; `hash` is the hash
   * after the last byte consumed. For a view `buf` that holds() is true of, buf[i] is at
   * address buf.byteOffset + i.
   */
  scanIn(at: number, stop: number, h: number, inv: number, shift: number, limit: number): number {
    return this.exports.scan(at, stop, h, inv, shift, limit);
  }

  /**
   * Copies `src` (the 48 window bytes, then the bytes to test) into the module's memory and
   * rolls the hash over it from `h`, testing the cut after each byte past the window.
   * Returns how many bytes past the window were consumed up to and including a cut
   * candidate, or -1 when none was found; `hash` is the hash after the last byte consumed.
   * A candidate passes the divisibility test; the caller confirms it (the h = 2^32 - 1 case).
   * The copy goes after the block; it may grow memory (see the class comment).
   */
  scan(src: Uint8Array, h: number, inv: number, shift: number, limit: number): number {
    const base = WASM_DATA_OFFSET + this.blockSize;
    this.ensureMemory(base + src.length);
    this.bytes.set(src, base);
    const first = base + 48;
    const r = this.exports.scan(first, base + src.length, h, inv, shift, limit);
    return r < 0 ? -1 : r - first;
  }

  /** The hash after the last scan. */
  get hash(): number {
    return this.exports.h.value;
  }
}
