import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { zstdFrameContentSize } from './zstd-frame.js';

/** casync's upper limit for any chunk (cachunk.h CA_CHUNK_SIZE_LIMIT_MAX). */
export const MAX_CHUNK_SIZE = 128 * 1024 * 1024;

/** A zstd implementation. Every codec writes frames any zstd reads; ids hash plain bytes. */
export interface ZstdCodec {
  /** Short name shown by `desync --version`: `node-zlib` or `zstd-wasm`. */
  readonly name: string;
  /** Compresses `data` into one complete zstd frame. */
  compress(data: Uint8Array): Uint8Array;
  /**
   * Decompresses one frame. `expectedSize` (when known, e.g. from an index) sizes the output
   * buffer; output beyond `maxSize` bytes is an error, never an allocation.
   */
  decompress(frame: Uint8Array, maxSize: number, expectedSize?: number): Uint8Array;
}

/** The compression level casync and desync use by default. */
const LEVEL = 3;

type ZlibWithZstd = typeof zlib & {
  zstdCompressSync(buf: Uint8Array, options?: object): Buffer;
  zstdDecompressSync(buf: Uint8Array, options?: object): Buffer;
  constants: typeof zlib.constants & { ZSTD_c_compressionLevel: number };
};

function nodeZlibCodec(): ZstdCodec | undefined {
  const z = zlib as ZlibWithZstd;
  if (typeof z.zstdCompressSync !== 'function') return undefined;
  const params = { [z.constants.ZSTD_c_compressionLevel]: LEVEL };
  return {
    name: 'node-zlib',
    compress: (data) => z.zstdCompressSync(data, { params }),
    decompress: (frame, maxSize) => {
      checkDeclaredSize(frame, maxSize);
      return z.zstdDecompressSync(frame, { maxOutputLength: Math.max(1, maxSize) });
    },
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
  return {
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
 * The codec this thread uses: Node's own zstd when the runtime has it (Node >= 22.15),
 * otherwise @bokuweb/zstd-wasm. `DESYNC_ZSTD=wasm` or `=node-zlib` forces one.
 */
export function loadCodec(): Promise<ZstdCodec> {
  loaded ??= (async () => {
    const forced = process.env.DESYNC_ZSTD;
    if (forced !== 'wasm' && forced !== 'zstd-wasm') {
      const native = nodeZlibCodec();
      if (native) return native;
      if (forced === 'node-zlib') throw new Error('DESYNC_ZSTD=node-zlib, but this Node has no zlib zstd');
    }
    return wasmCodec();
  })();
  return loaded;
}

/** Every codec available in this runtime, for tests that must pass with each. */
export async function availableCodecs(): Promise<ZstdCodec[]> {
  const codecs: ZstdCodec[] = [await wasmCodec()];
  const native = nodeZlibCodec();
  if (native) codecs.push(native);
  return codecs;
}
