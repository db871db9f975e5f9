import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { isZstdFrame, zstdFrameContentSize, zstdFrameLength } from './zstd-frame.js';

/** casync's upper limit for any chunk (cachunk.h CA_CHUNK_SIZE_LIMIT_MAX). */
export const MAX_CHUNK_SIZE = 128 * 1024 * 1024;

/** A zstd implementation. Every codec writes frames any zstd reads; ids hash plain bytes. */
export interface ZstdCodec {
  /** Short name shown by `desync --version`: `node-zlib`, `zstd-napi` or `zstd-wasm`. */
  readonly name: string;
  /** Compresses `data` into one complete zstd frame. */
  compress(data: Uint8Array): Uint8Array;
  /**
   * Like compress, but the frame may live in a buffer the codec reuses: it is valid only
   * until the codec's next call. Saves an allocation per chunk where it is written at once.
   */
  compressTransient(data: Uint8Array): Uint8Array;
  /**
   * Decompresses one frame. `expectedSize` (when known, e.g. from an index) sizes the output
   * buffer; output beyond `maxSize` bytes is an error, never an allocation.
   */
  decompress(frame: Uint8Array, maxSize: number, expectedSize?: number): Uint8Array;
  /**
   * Decompresses one frame into `out` (no allocation where the codec allows it) and returns
   * the number of bytes written; a frame larger than `out` is an error.
   */
  decompressInto(frame: Uint8Array, out: Uint8Array): number;
}

/** decompressInto for codecs without a native one: decompress, then copy. */
function copyInto(codec: Pick<ZstdCodec, 'decompress'>): ZstdCodec['decompressInto'] {
  return (frame, out) => {
    const plain = codec.decompress(frame, out.length, out.length);
    out.set(plain);
    return plain.length;
  };
}

/** ZSTD_COMPRESSBOUND: the largest frame zstd writes for `size` input bytes. */
function zstdCompressBound(size: number): number {
  return size + (size >>> 8) + (size < 128 * 1024 ? (128 * 1024 - size) >>> 11 : 0);
}

/** The compression level casync and desync use by default. */
const LEVEL = 3;

type ZlibWithZstd = typeof zlib & {
  zstdCompressSync(buf: Uint8Array, options?: object): Buffer;
  zstdDecompressSync(buf: Uint8Array, options?: object): Buffer;
  createZstdCompress?(options?: object): object;
  createZstdDecompress?(options?: object): object;
  constants: typeof zlib.constants & {
    ZSTD_c_compressionLevel: number;
    ZSTD_e_continue: number;
    ZSTD_e_end: number;
  };
};

/** The native side of one of Node's zlib streams (the same class for zlib, brotli and zstd). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

/** A zstd context of Node's: `run` feeds it one whole input into one output buffer. */
interface ZlibContext {
  /** Bytes written into `output` and input bytes left over; throws what zstd reported. */
  run(
    flush: number,
    input: Uint8Array,
    output: Uint8Array,
    outOffset?: number,
  ): { written: number; inputLeft: number };
  reset(): void;
}

interface HandleOf {
  handle: ZlibHandle;
  state: Uint32Array;
}

/** The native handle and write state inside one of Node's zlib streams, when they have the expected shape. */
function handleOf(stream: unknown): HandleOf | undefined {
  const { _handle: handle, _writeState: state } = (stream ?? {}) as {
    _handle?: ZlibHandle;
    _writeState?: unknown;
  };
  if (
    typeof handle?.writeSync !== 'function' ||
    typeof handle.reset !== 'function' ||
    !(state instanceof Uint32Array) ||
    state.length < 2
  )
    return undefined;
  return { handle, state };
}

/**
 * The context inside one of Node's zstd streams (`create` makes the stream), used directly:
 * the public one-shot calls (zstdCompressSync, zstdDecompressSync) build a stream, a context
 * and fresh output buffers per call, which for 64 KiB chunks cost more than the zstd work
 * (decompress 640 against 1180 MB/s on Node 24, and a garbage Buffer per chunk). The
 * handle's writeSync, reset and write state are internal to node:zlib but unchanged since
 * Node 10 and shared by every codec; when they are not there in that shape, undefined (the
 * public calls are used). After an error the context is replaced, not reset: Node 22's
 * zstd context stays failed through reset() (every later frame: "Unknown frame descriptor").
 */
function zlibContext(create: () => unknown): ZlibContext | undefined {
  const first = handleOf(create());
  if (!first) return undefined;
  let failure: string | undefined;
  const adopt = (h: HandleOf): HandleOf => {
    // Replaces the stream's own handler, which would destroy the stream: the context is reused.
    h.handle.onerror = (message) => {
      failure ??= message;
    };
    return h;
  };
  let { handle, state } = adopt(first);
  return {
    run(flush, input, output, outOffset = 0) {
      failure = undefined;
      handle.writeSync(flush, input, 0, input.length, output, outOffset, output.length - outOffset);
      if (failure !== undefined) {
        const message = failure;
        failure = undefined;
        const fresh = handleOf(create());
        if (fresh) {
          try {
            (handle as ZlibHandle & { close?: () => void }).close?.();
          } catch {}
          ({ handle, state } = adopt(fresh));
        }
        throw new Error(`zstd: ${message}`);
      }
      return { written: output.length - outOffset - (state[0] as number), inputLeft: state[1] as number };
    },
    reset: () => handle.reset(),
  };
}

/**
 * Refuses a zstd frame cut short, found by walking its block headers: Node 22's zstd
 * returns what it decoded of one without an error (Node 24's reports it).
 */
function checkWholeFrame(frame: Uint8Array): void {
  if (isZstdFrame(frame) && zstdFrameLength(frame) === undefined)
    throw new Error('zstd: the frame is cut short (unexpected end of data)');
}

const TOO_SMALL = /too small/i;

/**
 * decompress() on top of a decompressInto that throws "too small": frames that declare their
 * size get exactly that; others start at the expected size and grow, never past maxSize.
 */
function growingDecompress(into: ZstdCodec['decompressInto']): ZstdCodec['decompress'] {
  return (frame, maxSize, expectedSize) => {
    const declared = checkDeclaredSize(frame, maxSize);
    let capacity = declared ?? Math.min(maxSize, Math.max(expectedSize ?? 0, 4 * frame.length, 64 * 1024));
    for (;;) {
      const out = new Uint8Array(capacity);
      try {
        const n = into(frame, out);
        return n === capacity ? out : out.subarray(0, n);
      } catch (err) {
        if (declared !== undefined || capacity >= maxSize || !TOO_SMALL.test((err as Error).message))
          throw err;
        capacity = Math.min(maxSize, capacity * 4);
      }
    }
  };
}

/** Node's own zstd (Node >= 22.15, 23.8): one compression and one decompression context per thread. */
function nodeZlibCodec(): ZstdCodec | undefined {
  const z = zlib as ZlibWithZstd;
  if (typeof z.zstdCompressSync !== 'function') return undefined;
  const { ZSTD_e_continue, ZSTD_e_end } = z.constants;
  const cctx = zlibContext(() => z.createZstdCompress?.({ params: zlibParams(z) }));
  const dctx = zlibContext(() => z.createZstdDecompress?.());
  if (!cctx || !dctx) return nodeZlibOneShotCodec(z);
  let scratch = new Uint8Array(0);
  const probe = new Uint8Array(1);
  const compressTransient = (data: Uint8Array) => {
    // Room for zstd's worst case: the frame is always finished in one call.
    const bound = zstdCompressBound(data.length) + 64;
    if (scratch.length < bound) scratch = new Uint8Array(bound);
    try {
      const { written, inputLeft } = cctx.run(ZSTD_e_end, data, scratch.subarray(0, bound));
      if (inputLeft !== 0) throw new Error('zstd: the frame did not fit its bound');
      return scratch.subarray(0, written);
    } finally {
      cctx.reset();
    }
  };
  const decompressInto = (frame: Uint8Array, out: Uint8Array) => {
    checkDeclaredSize(frame, out.length);
    checkWholeFrame(frame);
    try {
      const { written, inputLeft } = dctx.run(ZSTD_e_end, frame, out);
      // A full buffer may still hold the whole frame: one more byte of room tells.
      if (
        inputLeft > 0 ||
        (written === out.length && dctx.run(ZSTD_e_continue, probe.subarray(0, 0), probe).written > 0)
      )
        throw new RangeError(`zstd: output buffer of ${out.length} bytes too small for the frame`);
      return written;
    } finally {
      dctx.reset();
    }
  };
  return {
    name: 'node-zlib',
    compress: (data) => compressTransient(data).slice(),
    compressTransient,
    decompress: growingDecompress(decompressInto),
    decompressInto,
  };
}

/** Compression parameters for Node's zstd: casync's level. */
const zlibParams = (z: ZlibWithZstd) => ({ [z.constants.ZSTD_c_compressionLevel]: LEVEL });

/** Node's zstd through its public one-shot calls: where the stream's context is not reachable. */
function nodeZlibOneShotCodec(z: ZlibWithZstd): ZstdCodec {
  const params = zlibParams(z);
  const codec = {
    name: 'node-zlib',
    // Node's zstd stream ends a frame, then starts a second, empty one when the output fills
    // its buffer (chunkSize, 16 KiB) exactly; casync refuses such two-frame chunk files. An
    // output buffer larger than zstd's worst case keeps every chunk one frame.
    compress: (data: Uint8Array) =>
      z.zstdCompressSync(data, { params, chunkSize: zstdCompressBound(data.length) + 64 }),
    decompress: (frame: Uint8Array, maxSize: number, expectedSize?: number) => {
      const declared = checkDeclaredSize(frame, maxSize);
      checkWholeFrame(frame);
      // One output buffer of the chunk's size: the default (16 KiB pieces, then joined)
      // cost an eighth more time.
      const chunkSize = Math.max(64, Math.min(maxSize, declared ?? expectedSize ?? 16 * 1024) + 1);
      return z.zstdDecompressSync(frame, { maxOutputLength: Math.max(1, maxSize), chunkSize });
    },
  };
  return { ...codec, compressTransient: codec.compress, decompressInto: copyInto(codec) };
}

interface NapiBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(size: number): number;
}

/**
 * The optional native addon `zstd-napi` (built from source at install when a compiler is
 * there), through its low-level binding: one context per thread, output buffers sized
 * by the caller, so a frame can never make it allocate more than `maxSize`.
 */
function napiCodec(): ZstdCodec | undefined {
  let binding: NapiBinding;
  try {
    binding = createRequire(import.meta.url)('zstd-napi/binding') as NapiBinding;
  } catch {
    return undefined;
  }
  const cctx = new binding.CCtx();
  const dctx = new binding.DCtx();
  let scratch = new Uint8Array(0);
  const compressTransient = (data: Uint8Array) => {
    const bound = binding.compressBound(data.length);
    if (scratch.length < bound) scratch = new Uint8Array(bound);
    return scratch.subarray(0, cctx.compress(scratch, data, LEVEL));
  };
  const decompressInto = (frame: Uint8Array, out: Uint8Array) => {
    checkDeclaredSize(frame, out.length);
    return dctx.decompress(out, frame);
  };
  return {
    name: 'zstd-napi',
    compress: (data) => compressTransient(data).slice(),
    compressTransient,
    decompressInto,
    decompress: growingDecompress(decompressInto),
  };
}

interface WasmZstd {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
  decompress(buf: Uint8Array, opts?: { defaultHeapSize: number }): Uint8Array;
}

let wasmLoaded: Promise<ZstdCodec> | undefined;

/**
 * The wasm codec, initialised once per thread: a second init() re-instantiates the module
 * while its cached exports (malloc, ZSTD_*) still point at the first instance, so every
 * codec handed out before then fails ("Failed to compress with code -10").
 */
function wasmCodec(): Promise<ZstdCodec> {
  wasmLoaded ??= initWasmCodec();
  return wasmLoaded;
}

async function initWasmCodec(): Promise<ZstdCodec> {
  // The package is CommonJS; its init() loads the .wasm beside it.
  const require = createRequire(import.meta.url);
  const wasm = require('@bokuweb/zstd-wasm') as WasmZstd;
  await wasm.init();
  const codec: Pick<ZstdCodec, 'name' | 'compress' | 'decompress'> = {
    name: 'zstd-wasm',
    compress: (data) => wasm.compress(data, LEVEL),
    decompress: (frame, maxSize, expectedSize) => {
      const declared = checkDeclaredSize(frame, maxSize);
      if (declared !== undefined) return wasm.decompress(frame);
      // Frames without a declared size: start at the expected size and grow on "too small".
      let capacity = Math.min(maxSize, Math.max(expectedSize ?? 0, 4 * frame.length, 64 * 1024));
      for (;;) {
        try {
          return wasm.decompress(frame, { defaultHeapSize: capacity });
        } catch (err) {
          // Grow only on zstd's "destination too small" (error 70); anything else is a bad frame.
          if (capacity >= maxSize || !/code -70\b/.test((err as Error).message)) throw err;
          capacity = Math.min(maxSize, capacity * 4);
        }
      }
    },
  };
  return { ...codec, compressTransient: codec.compress, decompressInto: copyInto(codec) };
}

function checkDeclaredSize(frame: Uint8Array, maxSize: number): number | undefined {
  const declared = zstdFrameContentSize(frame);
  if (declared !== undefined && declared > maxSize) {
    throw new RangeError(`zstd frame declares ${declared} bytes, more than the limit of ${maxSize}`);
  }
  return declared;
}

let loaded: Promise<ZstdCodec> | undefined;

/**
 * The codec this thread uses: Node's own zstd when the runtime has it (Node >= 22.15), else
 * the optional native addon zstd-napi when it built, else @bokuweb/zstd-wasm. Node's comes
 * first since it reuses its contexts (nodeZlibCodec): on Node 24 it decompresses chunks
 * faster than the addon and compresses them as fast (docs/benchmarks.md).
 * `DESYNC_ZSTD=node-zlib`, `=zstd-napi` or `=wasm` forces one.
 */
export function loadCodec(): Promise<ZstdCodec> {
  loaded ??= (async () => {
    const forced = process.env.DESYNC_ZSTD;
    if (forced === 'wasm' || forced === 'zstd-wasm') return wasmCodec();
    if (forced !== 'zstd-napi') {
      const zlibCodec = nodeZlibCodec();
      if (zlibCodec) return zlibCodec;
      if (forced === 'node-zlib') throw new Error('DESYNC_ZSTD=node-zlib, but this Node has no zlib zstd');
    }
    const napi = napiCodec();
    if (napi) return napi;
    if (forced === 'zstd-napi')
      throw new Error('DESYNC_ZSTD=zstd-napi, but the zstd-napi addon is not installed');
    return wasmCodec();
  })();
  return loaded;
}

/** Every codec available in this runtime, for tests that must pass with each. */
export async function availableCodecs(): Promise<ZstdCodec[]> {
  const codecs: ZstdCodec[] = [await wasmCodec()];
  const z = zlib as ZlibWithZstd;
  // Node's zstd twice where it has it: through its contexts and through the one-shot calls
  // (the fallback when the contexts are out of reach).
  const oneShot = typeof z.zstdCompressSync === 'function' ? nodeZlibOneShotCodec(z) : undefined;
  for (const codec of [nodeZlibCodec(), oneShot, napiCodec()]) if (codec) codecs.push(codec);
  return codecs;
}
