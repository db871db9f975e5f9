import { describe, expect, it } from 'vitest';
import { rawZstdFrame } from '../src/testing/index.js';
import { loadCodec } from '../src/zstd-codec.js';
import { isZstdFrame, zstdFrameContentSize, zstdFrameLength } from '../src/zstd-frame.js';

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** A frame header: magic, Frame_Header_Descriptor, then the given field bytes (RFC 8878 3.1.1.1). */
function header(fhd: number, ...fields: number[]): Uint8Array {
  return new Uint8Array([...MAGIC, fhd, ...fields]);
}

describe('zstdFrameContentSize', () => {
  it.each([0, 1, 255, 256, 300, 65_791, 65_792, 70_000, 1_000_000])(
    'reads the size the codec declares for %i bytes',
    async (size) => {
      const codec = await loadCodec();
      expect(zstdFrameContentSize(codec.compress(new Uint8Array(size)))).toBe(size);
    },
  );

  it('reads a 1-byte size of a single-segment frame', () => {
    expect(zstdFrameContentSize(header(0x20, 200))).toBe(200);
  });

  it('adds 256 to a 2-byte size', () => {
    // 0x40: 2-byte size after a Window_Descriptor (0x58).
    expect(zstdFrameContentSize(header(0x40, 0x58, 0x00, 0x01))).toBe(256 + 256);
    expect(zstdFrameContentSize(header(0x60, 0xff, 0xff))).toBe(65_535 + 256);
  });

  it('reads a 4-byte size after the window descriptor', () => {
    expect(zstdFrameContentSize(header(0x80, 0x58, 0x78, 0x56, 0x34, 0x12))).toBe(0x12345678);
  });

  it('reads an 8-byte size beyond 32 bits', () => {
    expect(zstdFrameContentSize(header(0xe0, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00))).toBe(
      2 * 2 ** 32,
    );
  });

  it.each([
    [1, [0xaa]],
    [2, [0xaa, 0xbb]],
    [3, [0xaa, 0xbb, 0xcc, 0xdd]],
  ])('skips a dictionary id of flag %i', (flag, dict) => {
    expect(zstdFrameContentSize(header(0x20 | flag, ...dict, 42))).toBe(42);
  });

  it('is undefined when the frame leaves the size out (casync streaming frames)', () => {
    expect(zstdFrameContentSize(rawZstdFrame(new Uint8Array(1000)))).toBeUndefined();
    expect(zstdFrameContentSize(header(0x00, 0x38))).toBeUndefined();
  });

  it('is undefined for bytes that are not a zstd frame', () => {
    expect(zstdFrameContentSize(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
  });

  it('is undefined for a header cut short', () => {
    expect(zstdFrameContentSize(new Uint8Array(MAGIC))).toBeUndefined();
    expect(zstdFrameContentSize(header(0x80, 0x58, 0x78))).toBeUndefined();
    expect(zstdFrameContentSize(header(0xe0, 0, 0, 0))).toBeUndefined();
  });

  it('reads a frame held in a view into a larger buffer', () => {
    const buf = new Uint8Array(16);
    buf.set(header(0x20, 77), 3);
    expect(zstdFrameContentSize(buf.subarray(3, 9))).toBe(77);
  });
});

describe('isZstdFrame', () => {
  it('recognises the zstd magic', () => {
    expect(isZstdFrame(rawZstdFrame(new Uint8Array(3)))).toBe(true);
    expect(isZstdFrame(new Uint8Array(MAGIC))).toBe(true);
  });

  it('rejects other bytes and short input', () => {
    expect(isZstdFrame(new Uint8Array([0x28, 0xb5, 0x2f]))).toBe(false);
    expect(isZstdFrame(new Uint8Array([0x1f, 0x8b, 0x08, 0x00]))).toBe(false);
  });
});

describe('zstdFrameLength', () => {
  it('is the length of one whole frame, and undefined for cut or foreign bytes', async () => {
    const { loadCodec } = await import('../src/zstd-codec.js');
    const codec = await loadCodec();
    for (const data of [
      new Uint8Array(0),
      new Uint8Array(100_000),
      Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251),
    ]) {
      const frame = codec.compress(data);
      expect(zstdFrameLength(frame)).toBe(frame.length);
      const two = Buffer.concat([frame, frame]);
      expect(zstdFrameLength(two)).toBe(frame.length);
      expect(zstdFrameLength(frame.subarray(0, frame.length - 1))).toBeUndefined();
    }
    expect(zstdFrameLength(new Uint8Array([1, 2, 3, 4, 5, 6]))).toBeUndefined();
  });
});
