import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawZstdFrame } from '../src/testing/index.js';
import { availableCodecs, loadCodec, MAX_CHUNK_SIZE } from '../src/zstd-codec.js';
import { isZstdFrame, zstdFrameLength } from '../src/zstd-frame.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const codecs = await availableCodecs();

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** A frame header (RFC 8878 3.1.1.1) declaring `size` bytes in an 8-byte field, and no blocks. */
function frameDeclaring(size: number): Uint8Array {
  const frame = new Uint8Array(13);
  frame.set([0x28, 0xb5, 0x2f, 0xfd, 0xe0]);
  new DataView(frame.buffer).setBigUint64(5, BigInt(size), true);
  return frame;
}

describe('availableCodecs', () => {
  it('includes the wasm codec, which every runtime has', () => {
    expect(codecs.map((c) => c.name)).toContain('zstd-wasm');
  });

  it('includes the codec loadCodec picks', async () => {
    expect(codecs.map((c) => c.name)).toContain((await loadCodec()).name);
  });

  it.skipIf(process.env.DESYNC_ZSTD !== undefined)(
    "picks Node's own zstd where Node has it, else the zstd-napi addon when it is installed, else wasm",
    async () => {
      const names = codecs.map((c) => c.name);
      const fastest = ['node-zlib', 'zstd-napi', 'zstd-wasm'].find((name) => names.includes(name));
      expect((await loadCodec()).name).toBe(fastest);
    },
  );

  it('leaves codecs handed out earlier working when called again', async () => {
    const codec = await loadCodec();
    await availableCodecs();
    await availableCodecs();
    // The wasm module finishes a re-initialisation asynchronously; give it the chance.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const data = randomBytes(10 * KiB);
    for (const c of [codec, ...(await availableCodecs())]) {
      expect(same(c.decompress(c.compress(data), MiB), data)).toBe(true);
    }
  });
});

// Node's zstd appears twice (its contexts, its one-shot calls): numbered to tell them apart.
describe.each(codecs.map((codec, i) => [`${codec.name} (#${i})`, codec] as const))(
  'codec %s',
  (_name, codec) => {
    it.each([
      ['empty', new Uint8Array(0)],
      ['1 byte', new Uint8Array([42])],
      ['1000 random bytes', randomBytes(1000)],
      ['a block and a byte (128 KiB + 1)', randomBytes(128 * KiB + 1)],
      ['256 KiB random', randomBytes(256 * KiB)],
      ['1 MiB of zeros', new Uint8Array(MiB)],
      ['4 MiB random', randomBytes(4 * MiB)],
    ])('round-trips %s', (_label, data) => {
      const frame = codec.compress(data);
      expect(isZstdFrame(frame)).toBe(true);
      expect(same(codec.decompress(frame, MAX_CHUNK_SIZE), data)).toBe(true);
      expect(same(codec.decompress(frame, MAX_CHUNK_SIZE, data.length), data)).toBe(true);
      const transient = codec.compressTransient(data);
      expect(same(codec.decompress(transient, MAX_CHUNK_SIZE), data)).toBe(true);
      const out = new Uint8Array(data.length + 1);
      expect(codec.decompressInto(frame, out)).toBe(data.length);
      expect(same(out.subarray(0, data.length), data)).toBe(true);
    });

    // casync refuses a chunk file holding more than one frame (EBADMSG). Node's zlib zstd
    // once wrote a second, empty frame when its output filled a 16 KiB buffer exactly: random
    // data of every size around such boundaries must still give exactly one frame.
    it('writes exactly one frame, whatever the size (16 KiB and 64 KiB output boundaries)', () => {
      for (const base of [16 * KiB, 32 * KiB, 64 * KiB]) {
        for (let size = base - 24; size <= base + 8; size++) {
          const data = randomBytes(size);
          for (const frame of [codec.compress(data), codec.compressTransient(data)]) {
            expect(zstdFrameLength(frame), `${size} bytes`).toBe(frame.length);
          }
        }
      }
    });

    it('decompresses into a buffer a frame without a declared size', () => {
      const data = randomBytes(300 * KiB);
      const out = new Uint8Array(data.length);
      expect(codec.decompressInto(rawZstdFrame(data), out)).toBe(data.length);
      expect(same(out, data)).toBe(true);
    });

    it('refuses to decompress into a buffer too small for the frame', () => {
      const data = randomBytes(100 * KiB);
      expect(() => codec.decompressInto(codec.compress(data), new Uint8Array(data.length - 1))).toThrow();
      expect(() => codec.decompressInto(rawZstdFrame(data), new Uint8Array(data.length - 1))).toThrow();
    });

    it('keeps working after a frame it refused (its contexts are reused)', () => {
      const data = randomBytes(70 * KiB);
      const frame = codec.compress(data);
      for (const bad of [randomBytes(100), frame.subarray(0, frame.length - 10)]) {
        expect(() => codec.decompress(bad, MiB)).toThrow();
        const out = new Uint8Array(data.length + 1);
        expect(codec.decompressInto(frame, out)).toBe(data.length);
        expect(same(out.subarray(0, data.length), data)).toBe(true);
      }
      expect(() => codec.decompressInto(frame, new Uint8Array(10))).toThrow();
      expect(same(codec.decompress(codec.compressTransient(data), MiB), data)).toBe(true);
    });

    it("decompresses into a buffer of exactly the frame's size, and refuses one a byte short", () => {
      // Compressible data: the last bytes come out of zstd's own window, not straight from input.
      const data = new Uint8Array(200 * KiB).map((_, i) => (i * 7) % 13);
      const frame = codec.compress(data);
      expect(codec.decompressInto(frame, new Uint8Array(data.length))).toBe(data.length);
      expect(() => codec.decompressInto(frame, new Uint8Array(data.length - 1))).toThrow();
      expect(() => codec.decompressInto(rawZstdFrame(data), new Uint8Array(data.length - 1))).toThrow();
    });

    it('compresses compressible data', () => {
      expect(codec.compress(new Uint8Array(MiB)).length).toBeLessThan(KiB);
    });

    it.each([
      ['empty', 0],
      ['1000 bytes', 1000],
      ['300 KiB (several blocks)', 300 * KiB],
      ['2 MiB', 2 * MiB],
    ])('decodes a frame without a declared content size: %s', (_label, size) => {
      const data = randomBytes(size);
      const frame = rawZstdFrame(data);
      for (const expectedSize of [undefined, 0, 1, size, size * 3]) {
        expect(same(codec.decompress(frame, MAX_CHUNK_SIZE, expectedSize), data)).toBe(true);
      }
    });

    it('refuses a frame declaring more than maxSize before allocating for it', () => {
      // 2^40 bytes could never be allocated: a RangeError from the header check proves the
      // codec looked before it allocated.
      expect(() => codec.decompress(frameDeclaring(2 ** 40), MAX_CHUNK_SIZE)).toThrow(RangeError);
      expect(() => codec.decompress(frameDeclaring(MAX_CHUNK_SIZE + 1), MAX_CHUNK_SIZE)).toThrow(RangeError);
    });

    it('refuses a real frame whose declared size exceeds a small maxSize', () => {
      const frame = codec.compress(randomBytes(2000));
      expect(() => codec.decompress(frame, 1000)).toThrow(RangeError);
    });

    it('fails rather than return more than maxSize from a frame without a declared size', () => {
      const frame = rawZstdFrame(randomBytes(5000));
      expect(() => codec.decompress(frame, 1000)).toThrow();
    });

    it('throws on bytes that are not a zstd frame', () => {
      expect(() => codec.decompress(randomBytes(100), MiB)).toThrow();
      expect(() => codec.decompress(new Uint8Array(3), MiB)).toThrow();
    });

    it('decodes empty input to nothing at most, which only the empty chunk id matches', () => {
      // zstd reads empty input as zero frames; Chunk's id check is what rejects a truncated file.
      let out: Uint8Array = new Uint8Array(0);
      try {
        out = codec.decompress(new Uint8Array(0), MiB);
      } catch {
        // Refusing empty input is as good.
      }
      expect(out.length).toBe(0);
    });

    it('throws on a frame cut short', () => {
      const frame = codec.compress(randomBytes(10 * KiB));
      expect(() => codec.decompress(frame.subarray(0, frame.length - 10), MiB)).toThrow();
    });

    it.each(codecs.map((other) => [other.name, other] as const))(
      'reads frames written by %s',
      (_n, other) => {
        const data = randomBytes(50 * KiB);
        expect(same(codec.decompress(other.compress(data), MiB), data)).toBe(true);
      },
    );
  },
);
