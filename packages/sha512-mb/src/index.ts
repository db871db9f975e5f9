import { createRequire } from 'node:module';

/** The native addon (build/Release/sha512_mb.node). */
export interface Sha512MbBinding {
  /**
   * SHA512/256 of `data`'s bytes [starts[i], starts[i] + sizes[i]) into out[32 i, 32 i + 32):
   * multi-buffer over the widest vectors this CPU has (`simdWidth()` lanes), scalar C without.
   * @throws TypeError on wrong argument types, RangeError on ranges outside `data` or a short `out`.
   */
  digestMany(data: ArrayBufferView, starts: Float64Array, sizes: Float64Array, out: Uint8Array): void;
  /** The same with at most the 4 lanes of AVX2 (scalar without AVX2; for tests). */
  digestManyAvx2(data: ArrayBufferView, starts: Float64Array, sizes: Float64Array, out: Uint8Array): void;
  /** The same, always with the portable scalar code (for tests). */
  digestManyScalar(data: ArrayBufferView, starts: Float64Array, sizes: Float64Array, out: Uint8Array): void;
  /** True when `digestMany` runs a multi-buffer path (`simdWidth() > 0`). */
  supported(): boolean;
  /** Lanes of the multi-buffer path this CPU runs: 8 (AVX-512 F+VL+BW), 4 (AVX2) or 0. */
  simdWidth(): number;
}

// Module state is per thread (each worker has its own module instance); the addon itself is
// context-aware (NAPI_MODULE_INIT), so every thread may load it.
let binding: Sha512MbBinding | null | undefined;
let available: boolean | undefined;

/** The addon, or null when it is not built (no compiler at install time). Internal; for tests. */
export function loadBinding(): Sha512MbBinding | null {
  if (binding !== undefined) return binding;
  try {
    binding = createRequire(import.meta.url)('../build/Release/sha512_mb.node') as Sha512MbBinding;
  } catch {
    binding = null;
  }
  return binding;
}

/**
 * True when the addon is built and this CPU runs one of its multi-buffer paths, AVX-512 or
 * AVX2 (and DESYNC_SHA512_MB is not "0").
 */
export function multiBufferAvailable(): boolean {
  if (available === undefined) {
    available = process.env.DESYNC_SHA512_MB !== '0' && (loadBinding()?.supported() ?? false);
  }
  return available;
}

/** The instruction set of the multi-buffer path in use (`avx512` or `avx2`), undefined when none is. */
export function multiBufferKind(): 'avx512' | 'avx2' | undefined {
  if (!multiBufferAvailable()) return undefined;
  return (binding as Sha512MbBinding).simdWidth() === 8 ? 'avx512' : 'avx2';
}

/**
 * SHA512/256 of data[starts[i], starts[i] + sizes[i]) for every i, 32 bytes each, in order,
 * into `out` (or a new Uint8Array). Undefined when multiBufferAvailable() is false: the caller
 * hashes with node:crypto then.
 * @throws TypeError / RangeError when a range lies outside `data`, the lengths of `starts` and
 * `sizes` differ or `out` is shorter than 32 bytes per range.
 */
export function sha512_256Many(
  data: Uint8Array,
  starts: Float64Array,
  sizes: Float64Array,
  out?: Uint8Array,
): Uint8Array | undefined {
  if (!multiBufferAvailable()) return undefined;
  const result = out ?? new Uint8Array(32 * starts.length);
  (binding as Sha512MbBinding).digestMany(data, starts, sizes, result);
  return result;
}
