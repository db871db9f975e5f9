import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  loadBinding,
  multiBufferAvailable,
  multiBufferKind,
  type Sha512MbBinding,
  sha512_256Many,
} from '../src/index.js';

const binding = loadBinding();
const simd = binding?.supported() ?? false;
const width = binding?.simdWidth() ?? 0;
const addonPath = fileURLToPath(new URL('../build/Release/sha512_mb.node', import.meta.url));

const EMPTY = 'c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a';
const ABC = '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const opensslDigest = (b: Uint8Array) => createHash('sha512-256').update(b).digest('hex');

type Digest = Sha512MbBinding['digestMany'];

// The addon is optional for users (no compiler: OpenSSL hashes), but CI machines have one:
// there a missing build is a failure, not a silent skip of the tests below.
describe.runIf(process.env.CI === 'true')('the build (CI)', () => {
  it('produced the addon', () => {
    expect(binding).not.toBeNull();
  });
});

// Sizes: the padding edge cases (a message ending at 111/112 bytes in its last block needs one
// or two padding blocks) often, around larger block multiples too, and big chunks.
const BOUNDARY = [
  0, 1, 2, 55, 56, 63, 64, 110, 111, 112, 113, 119, 120, 127, 128, 129, 239, 240, 241, 255, 256, 257,
];
const size = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 2400 }), fc.integer({ min: -17, max: 17 }))
      .map(([blocks, delta]) => Math.max(0, blocks * 128 + delta)),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 * 1024 }) },
);

const batch = fc.record({
  sizes: fc.array(size, { minLength: 0, maxLength: 40, size: 'max' }),
  // 'seq': back to back (with random gaps) like a chunker's output; 'any': overlapping, unaligned.
  layout: fc.constantFrom('seq', 'any'),
  container: fc.constantFrom('buffer', 'wasm'),
  offset: fc.integer({ min: 0, max: 200 }),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
});

type Batch = typeof batch extends fc.Arbitrary<infer T> ? T : never;

// TypeScript's lib without DOM does not declare WebAssembly.
const WasmMemory = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
  }
).WebAssembly.Memory;

// Random bytes shared by all runs; each case copies a slice at a seed-chosen position.
const POOL = randomBytes(16 * 1024 * 1024);

function rng(seed: number): () => number {
  let s = seed | 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function checkBatch(digest: Digest, b: Batch): void {
  const random = rng(b.seed);
  const n = b.sizes.length;
  const starts = new Float64Array(n);
  const sizes = Float64Array.from(b.sizes);
  let length: number;
  if (b.layout === 'seq') {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      pos += random() < 0.5 ? 0 : Math.floor(random() * 100);
      starts[i] = pos;
      pos += b.sizes[i];
    }
    length = pos + Math.floor(random() * 50);
  } else {
    length = Math.max(0, ...b.sizes) + Math.floor(random() * 4096);
    for (let i = 0; i < n; i++) starts[i] = Math.floor(random() * (length - b.sizes[i] + 1));
  }
  let data: Uint8Array;
  if (b.container === 'wasm') {
    const memory = new WasmMemory({ initial: Math.ceil((length + b.offset + 1) / 65536) });
    data = new Uint8Array(memory.buffer, b.offset, length);
  } else {
    data = new Uint8Array(length + b.offset + 7).subarray(b.offset, b.offset + length);
  }
  const from = Math.floor(random() * (POOL.length - length));
  data.set(POOL.subarray(from, from + length));
  const out = new Uint8Array(32 * n + 5);
  out.fill(0xa5);
  digest(data, starts, sizes, out);
  for (let i = 0; i < n; i++) {
    const expected = opensslDigest(data.subarray(starts[i], starts[i] + sizes[i]));
    if (hex(out.subarray(32 * i, 32 * i + 32)) !== expected) {
      throw new Error(`range ${i} (start ${starts[i]}, size ${sizes[i]}) digest differs from OpenSSL`);
    }
  }
  // Nothing written past the digests.
  expect(Array.from(out.subarray(32 * n))).toEqual([0xa5, 0xa5, 0xa5, 0xa5, 0xa5]);
}

function knownAnswers(digest: Digest): void {
  const data = new TextEncoder().encode('xabcx');
  const out = new Uint8Array(96);
  digest(data, Float64Array.of(0, 1, 5), Float64Array.of(0, 3, 0), out);
  expect(hex(out.subarray(0, 32))).toBe(EMPTY);
  expect(hex(out.subarray(32, 64))).toBe(ABC);
  expect(hex(out.subarray(64, 96))).toBe(EMPTY);
}

// Many ranges of one length: every lane of the vector busy, all finishing together.
function fullLanes(digest: Digest): void {
  for (const len of [0, 111, 112, 128, 240, 65536 + 113]) {
    const n = 17;
    const data = POOL.subarray(3, 3 + n * len + 100);
    const starts = Float64Array.from({ length: n }, (_, i) => i * len + (i % 5));
    const sizes = new Float64Array(n).fill(len);
    const out = new Uint8Array(32 * n);
    digest(data, starts, sizes, out);
    for (let i = 0; i < n; i++) {
      expect(hex(out.subarray(32 * i, 32 * i + 32))).toBe(
        opensslDigest(data.subarray(starts[i], starts[i] + len)),
      );
    }
  }
}

describe('the addon', () => {
  it('is built on Linux with a compiler', () => {
    expect(binding).not.toBeNull();
  });

  it('reports its multi-buffer path consistently', () => {
    expect([0, 4, 8]).toContain(width);
    expect(simd).toBe(width > 0);
    const on = simd && process.env.DESYNC_SHA512_MB !== '0';
    expect(multiBufferAvailable()).toBe(on);
    expect(multiBufferKind()).toBe(on ? (width === 8 ? 'avx512' : 'avx2') : undefined);
  });
});

// Each path this CPU runs: AVX-512 (8 lanes) where it has it, AVX2 (4 lanes) too, since
// digestManyAvx2 runs the AVX2 code on AVX-512 machines, and the scalar fallback.
const paths = [
  { name: 'AVX-512 multi-buffer path (digestMany)', lanes: 8, run: 'digestMany', runs: 500 },
  { name: 'AVX2 multi-buffer path', lanes: 4, run: 'digestManyAvx2', runs: 500 },
  { name: 'scalar fallback', lanes: 0, run: 'digestManyScalar', runs: 200 },
] as const;

for (const path of paths) {
  describe.skipIf(!binding || width < path.lanes)(path.name, () => {
    const digest: Digest = (...args) => binding![path.run](...args);

    it('known answers', () => knownAnswers(digest));
    it('full lanes of equal lengths', () => fullLanes(digest));

    it('matches OpenSSL on random batches', () => {
      fc.assert(
        fc.property(batch, (b) => checkBatch(digest, b)),
        { numRuns: path.runs },
      );
    });
  });
}

describe.skipIf(!simd)('sha512_256Many', () => {
  it('returns the digests in order, in a new array or in `out`', () => {
    if (!multiBufferAvailable()) return;
    const data = new TextEncoder().encode('abc');
    const got = sha512_256Many(data, Float64Array.of(0, 0), Float64Array.of(3, 0));
    expect(got && hex(got)).toBe(ABC + EMPTY);
    const out = new Uint8Array(64);
    expect(sha512_256Many(data, Float64Array.of(0), Float64Array.of(0), out)).toBe(out);
    expect(hex(out.subarray(0, 32))).toBe(EMPTY);
  });
});

describe.skipIf(!binding)('bad arguments', () => {
  const data = new Uint8Array(100);
  const one = Float64Array.of(0);
  for (const name of ['digestMany', 'digestManyAvx2', 'digestManyScalar'] as const) {
    it(`${name} throws instead of reading or writing out of bounds`, () => {
      const f = (...args: unknown[]) => (binding![name] as (...a: unknown[]) => void)(...args);
      expect(() => f(data, one, one, new Uint8Array(31))).toThrow(RangeError);
      expect(() => f(data, Float64Array.of(0, 0), one, new Uint8Array(64))).toThrow(RangeError);
      expect(() => f(data, Float64Array.of(50), Float64Array.of(51), new Uint8Array(32))).toThrow(RangeError);
      expect(() => f(data, Float64Array.of(101), Float64Array.of(0), new Uint8Array(32))).toThrow(RangeError);
      expect(() => f(data, Float64Array.of(-1), Float64Array.of(1), new Uint8Array(32))).toThrow(RangeError);
      expect(() => f(data, Float64Array.of(0.5), Float64Array.of(1), new Uint8Array(32))).toThrow(RangeError);
      expect(() => f(data, Float64Array.of(0), Float64Array.of(Number.NaN), new Uint8Array(32))).toThrow(
        RangeError,
      );
      expect(() => f(data, Float64Array.of(2 ** 60), Float64Array.of(2 ** 60), new Uint8Array(32))).toThrow(
        RangeError,
      );
      // A view's own bounds count, not its buffer's.
      expect(() =>
        f(data.subarray(10, 20), Float64Array.of(5), Float64Array.of(6), new Uint8Array(32)),
      ).toThrow(RangeError);
      expect(() => f([1, 2, 3], one, one, new Uint8Array(32))).toThrow(TypeError);
      expect(() => f(data, [0], one, new Uint8Array(32))).toThrow(TypeError);
      expect(() => f(data, new Float32Array(1), one, new Uint8Array(32))).toThrow(TypeError);
      expect(() => f(data, one, one, new Uint16Array(16))).toThrow(TypeError);
      expect(() => f(data, one, one)).toThrow(TypeError);
      // Exactly up to the end is fine; other TypedArrays count in bytes.
      f(data, Float64Array.of(90), Float64Array.of(10), new Uint8Array(32));
      const words = new Uint32Array(4);
      const out = new Uint8Array(32);
      f(words, Float64Array.of(0), Float64Array.of(16), out);
      expect(hex(out)).toBe(opensslDigest(new Uint8Array(16)));
    });
  }
});

describe('DESYNC_SHA512_MB=0', () => {
  it('makes the multi-buffer path unavailable', async () => {
    const saved = process.env.DESYNC_SHA512_MB;
    process.env.DESYNC_SHA512_MB = '0';
    try {
      vi.resetModules();
      const fresh = await import('../src/index.js');
      expect(fresh.multiBufferAvailable()).toBe(false);
      expect(fresh.sha512_256Many(new Uint8Array(1), one(), one())).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.DESYNC_SHA512_MB;
      else process.env.DESYNC_SHA512_MB = saved;
      vi.resetModules();
    }
  });
  const one = () => Float64Array.of(0);
});

describe.skipIf(!binding)('worker threads', () => {
  it('load the addon and hash in parallel with the main thread', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.path);
      const data = new Uint8Array(3 * 200000).fill(7);
      const out = new Uint8Array(96);
      b.digestMany(data, Float64Array.of(0, 200000, 400000), Float64Array.of(200000, 200000, 3), out);
      parentPort.postMessage(Buffer.from(out).toString('hex'));
    `;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { path: addonPath } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const results = await Promise.all([run(), run()]);
    const big = opensslDigest(new Uint8Array(200000).fill(7));
    const small = opensslDigest(new Uint8Array(3).fill(7));
    for (const r of results) expect(r).toBe(big + big + small);
  });
});
