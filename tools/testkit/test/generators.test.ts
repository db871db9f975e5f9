import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateMixed,
  generateRandom,
  generateZeros,
  hashFile,
  makeTempDir,
  randomBytes,
  removeTempDir,
  writeMixedFile,
  writeRandomFile,
  writeZeroFile,
} from '../src/index.js';

function collect(pieces: Iterable<Uint8Array>): Buffer {
  return Buffer.concat([...pieces]);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('desync-testkit-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('randomBytes / generateRandom / writeRandomFile', () => {
  it('returns exactly the size asked, including sizes that are not a multiple of 4', () => {
    for (const size of [0, 1, 3, 4, 5, 1023, 65_537]) expect(randomBytes(size, 1).byteLength).toBe(size);
  });

  // Pinned so a change to the generator, which would silently change benchmark data, fails here.
  it('produces the pinned bytes for seed 1', () => {
    expect(sha256(randomBytes(1024, 1))).toBe(
      '91695c105e269304e29b351da6b5f47383a009b57083b1c8739302819448c5c6',
    );
  });

  it('is deterministic per seed and differs between seeds', () => {
    expect(randomBytes(4096, 9).equals(randomBytes(4096, 9))).toBe(true);
    expect(randomBytes(4096, 9).equals(randomBytes(4096, 10))).toBe(false);
  });

  it('streams the same bytes as randomBytes across 1 MiB pieces', () => {
    const size = (1 << 20) * 2 + 13;
    expect(collect(generateRandom(size, 4)).equals(randomBytes(size, 4))).toBe(true);
  });

  it('does not compress', () => {
    const bytes = randomBytes(1 << 20, 2);
    expect(deflateSync(bytes).byteLength).toBeGreaterThan(bytes.byteLength);
  });

  it('writes a file of the exact size and content', async () => {
    const path = join(dir, 'random.bin');
    await writeRandomFile(path, 3_000_001, 6);
    expect((await stat(path)).size).toBe(3_000_001);
    expect(await hashFile(path)).toBe(sha256(randomBytes(3_000_001, 6)));
  });

  it('rejects sizes it cannot honour', () => {
    expect(() => randomBytes(-1, 1)).toThrow(RangeError);
    expect(() => randomBytes(1.5, 1)).toThrow(RangeError);
  });
});

describe('generateZeros / writeZeroFile', () => {
  it('writes a file of the exact size holding only zeros', async () => {
    const path = join(dir, 'zero.bin');
    const size = (1 << 20) * 2 + 7;
    await writeZeroFile(path, size);
    const bytes = await readFile(path);
    expect(bytes.byteLength).toBe(size);
    expect(bytes.every((byte) => byte === 0)).toBe(true);
  });

  it('yields nothing for size 0', () => {
    expect([...generateZeros(0)]).toEqual([]);
  });
});

describe('generateMixed / writeMixedFile', () => {
  const size = 16 << 20;
  let mixed: Buffer;
  beforeAll(() => {
    mixed = collect(generateMixed(size, 42));
  });

  it('returns exactly the size asked', () => {
    expect(mixed.byteLength).toBe(size);
    for (const small of [0, 1, 511, 512, 513, 100_000]) {
      expect(collect(generateMixed(small, 42)).byteLength).toBe(small);
    }
  });

  it('produces the pinned bytes for seed 42', () => {
    expect(sha256(mixed.subarray(0, 4 << 20))).toBe(
      '6c0d0fc095f679ea532391b075b770480c771343a133f3e488779aae7dbdd7ad',
    );
  });

  it('is deterministic per seed, differs between seeds, and a smaller size is a prefix', () => {
    expect(collect(generateMixed(size, 42)).equals(mixed)).toBe(true);
    expect(collect(generateMixed(1 << 20, 43)).equals(mixed.subarray(0, 1 << 20))).toBe(false);
    expect(collect(generateMixed(1_234_567, 42)).equals(mixed.subarray(0, 1_234_567))).toBe(true);
  });

  it('starts with a ustar header like a tar of /usr', () => {
    expect(mixed.subarray(0, 4).toString('latin1')).toBe('usr/');
    expect(mixed.subarray(257, 262).toString('latin1')).toBe('ustar');
  });

  it('mixes incompressible, compressible and zero data', () => {
    const ratio = mixed.byteLength / deflateSync(mixed, { level: 1 }).byteLength;
    // Neither random (ratio ~1) nor trivially compressible (zeros or one repeated block).
    expect(ratio).toBeGreaterThan(1.3);
    expect(ratio).toBeLessThan(4);
    let zeroBlocks = 0;
    let textBlocks = 0;
    for (let offset = 0; offset < size; offset += 512) {
      const block = mixed.subarray(offset, offset + 512);
      if (block.every((byte) => byte === 0)) zeroBlocks++;
      else if (block.every((byte) => byte === 9 || byte === 10 || (byte >= 32 && byte < 127))) textBlocks++;
    }
    const blocks = size / 512;
    expect(zeroBlocks / blocks).toBeGreaterThan(0.02);
    expect(textBlocks / blocks).toBeGreaterThan(0.15);
  });

  it('repeats earlier segments so that a chunk store dedups', () => {
    // Segments start on 512-byte boundaries, so a repeated segment repeats whole 4 KiB blocks
    // at the same offset modulo 512; count 4 KiB windows at 512-byte steps seen twice.
    const seen = new Set<string>();
    let repeats = 0;
    for (let offset = 0; offset + 4096 <= size; offset += 512) {
      const window = mixed.subarray(offset, offset + 4096);
      if (window.every((byte) => byte === 0)) continue;
      const key = sha256(window);
      if (seen.has(key)) repeats++;
      else seen.add(key);
    }
    expect(repeats / (size / 512)).toBeGreaterThan(0.05);
  });

  it('writes the same bytes to a file', async () => {
    const path = join(dir, 'mixed.bin');
    await writeMixedFile(path, size, 42);
    expect((await stat(path)).size).toBe(size);
    expect(await hashFile(path)).toBe(sha256(mixed));
  });
});
