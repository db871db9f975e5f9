import { createHash } from 'node:crypto';

/**
 * SHA512/256 of many chunks of one buffer in one call: `data[starts[i], starts[i] + sizes[i])`
 * for every i, 32 bytes each, in order. The optional addon `@desync/sha512-mb` hashes eight
 * chunks at once in AVX-512 registers or four in AVX2 registers where the CPU has them;
 * otherwise each chunk goes through OpenSSL (node:crypto), as before.
 */
export interface ChunkHasher {
  /** `sha512-mb-avx512`, `sha512-mb-avx2` (the addon) or `openssl`; `desync --version` shows it. */
  readonly name: string;
  digestMany(data: Uint8Array, starts: Float64Array, sizes: Float64Array): Uint8Array;
}

interface MultiBuffer {
  multiBufferAvailable(): boolean;
  multiBufferKind(): string | undefined;
  sha512_256Many(data: Uint8Array, starts: Float64Array, sizes: Float64Array): Uint8Array | undefined;
}

/** One chunk at a time through OpenSSL (node:crypto): the fallback, and the reference in tests. */
export const opensslChunkHasher: ChunkHasher = {
  name: 'openssl',
  digestMany(data, starts, sizes) {
    const out = new Uint8Array(starts.length * 32);
    for (let i = 0; i < starts.length; i++) {
      const at = starts[i] as number;
      const digest = createHash('sha512-256')
        .update(data.subarray(at, at + (sizes[i] as number)))
        .digest();
      out.set(digest, i * 32);
    }
    return out;
  },
};

let loaded: Promise<ChunkHasher> | undefined;

/** The fastest hasher this thread can use (loaded once per thread). */
export function loadChunkHasher(): Promise<ChunkHasher> {
  loaded ??= (async () => {
    try {
      const mb = (await import('@desync/sha512-mb' as string)) as MultiBuffer;
      if (!mb.multiBufferAvailable()) return opensslChunkHasher;
      return {
        name: `sha512-mb-${mb.multiBufferKind()}`,
        digestMany: (data, starts, sizes) =>
          mb.sha512_256Many(data, starts, sizes) ?? opensslChunkHasher.digestMany(data, starts, sizes),
      };
    } catch {
      return opensslChunkHasher; // the addon is optional: not installed, not built, or no such CPU
    }
  })();
  return loaded;
}
