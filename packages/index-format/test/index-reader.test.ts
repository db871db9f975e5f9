import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileError, IndexFormatError } from '@desync/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BLOB_INDEX_FLAGS,
  CA_FORMAT_INDEX,
  CA_FORMAT_TABLE,
  CA_FORMAT_TABLE_TAIL_MARKER,
  ChunkIndex,
  encodeIndex,
  FeatureFlags,
  KNOWN_FLAGS,
  parseIndex,
  readIndex,
} from '../src/index.js';
import { makeTempDir, removeTempDir } from './testkit.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

// Flags of desync's fixtures (test/fixtures/LICENSE.md): SHA512_256 | EXCLUDE_NODUMP, as an
// older casync wrote them.
const OLD_CASYNC_FLAGS = 0xa000000000000000n;

const KiB = 1024;

/** A valid index of `ends` with ids 0x01…, 0x02…: the base every rejection test corrupts. */
function sampleIndex(ends = [100_000, 150_000, 230_000, 240_000]): Buffer {
  const ids = new Uint8Array(ends.length * 32);
  for (let i = 0; i < ends.length; i++) ids.fill(i + 1, i * 32, i * 32 + 32);
  return encodeIndex(
    new ChunkIndex({
      featureFlags: BLOB_INDEX_FLAGS,
      chunkSizes: { min: 16 * KiB, avg: 64 * KiB, max: 256 * KiB },
      ends: Float64Array.from(ends),
      ids,
    }),
  );
}

function withU64(bytes: Buffer, at: number, value: bigint): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeBigUInt64LE(value, at);
  return copy;
}

/** Offset of the i-th table item's end offset. */
const itemAt = (i: number) => 64 + i * 40;

function expectRejected(bytes: Uint8Array, reason: RegExp): void {
  const name = '/some/dir/broken.caibx';
  let thrown: unknown;
  try {
    parseIndex(bytes, name);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(IndexFormatError);
  const err = thrown as IndexFormatError;
  expect(err.code).toBe('INDEX_FORMAT');
  expect(err.file).toBe(name);
  expect(err.message).toContain(name);
  expect(err.message).toMatch(reason);
}

describe('parseIndex of desync’s fixtures', () => {
  it.each([
    ['index.caibx', 3, { min: 16 * KiB, avg: 64 * KiB, max: 256 * KiB }, 337_920],
    ['blob1.caibx', 161, { min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB }, 2 * 1024 * KiB],
    ['blob2.caibx', 161, { min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB }, 2 * 1024 * KiB],
  ])('reads %s: header, %i chunks, blob size', async (name, count, sizes, blobSize) => {
    const index = parseIndex(await readFile(fixture(name)), name);
    expect(index.featureFlags).toBe(OLD_CASYNC_FLAGS);
    expect(index.chunkSizes).toEqual(sizes);
    expect(index.length).toBe(count);
    expect(index.blobSize).toBe(blobSize);
  });

  it('reads the chunk table of index.caibx entry by entry', async () => {
    const index = await readIndex(fixture('index.caibx'));
    expect([...index].map((c) => [c.start, c.size])).toEqual([
      [0, 242_168],
      [242_168, 75_740],
      [317_908, 20_012],
    ]);
    for (const c of index) expect(c.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(['index.caibx', 'blob1.caibx', 'blob2.caibx'])('encodes %s back byte for byte', async (name) => {
    const bytes = await readFile(fixture(name));
    expect(encodeIndex(parseIndex(bytes, name)).equals(bytes)).toBe(true);
  });

  it('reads an index at an offset inside a larger buffer', async () => {
    const bytes = await readFile(fixture('blob1.caibx'));
    const padded = Buffer.alloc(bytes.length + 13);
    bytes.copy(padded, 5);
    const index = parseIndex(padded.subarray(5, 5 + bytes.length), 'padded');
    expect(encodeIndex(index).equals(bytes)).toBe(true);
  });
});

describe('parseIndex rejects with IndexFormatError naming the file', () => {
  it('accepts the untouched sample index', () => {
    expect(parseIndex(sampleIndex(), 'ok').length).toBe(4);
  });

  it('an index with a wrong magic', () => {
    expectRejected(withU64(sampleIndex(), 8, CA_FORMAT_INDEX ^ 1n), /magic/);
    expectRejected(withU64(sampleIndex(), 8, CA_FORMAT_TABLE), /magic/);
  });

  it('an index with a wrong header size', () => {
    expectRejected(withU64(sampleIndex(), 0, 49n), /header size/);
    expectRejected(withU64(sampleIndex(), 0, 0n), /header size/);
  });

  it.each([
    ['empty', 0],
    ['inside the header', 20],
    ['one byte short of a header', 47],
    ['after the header', 48],
    ['after the table header', 64],
    ['mid-entry', 64 + 40 + 17],
    ['after an entry, without a tail', 64 + 2 * 40],
    ['mid-tail', 64 + 4 * 40 + 20],
    ['one byte short', 64 + 4 * 40 + 39],
  ])('a truncated index: %s (%i bytes)', (_, length) => {
    expectRejected(sampleIndex().subarray(0, length), /truncated|partial|marker/);
  });

  it('an index missing its tail (the last 40 bytes)', () => {
    const bytes = sampleIndex();
    expectRejected(bytes.subarray(0, bytes.length - 40), /tail/);
  });

  it('an index with bytes after its tail', () => {
    expectRejected(Buffer.concat([sampleIndex(), Buffer.alloc(40)]), /tail|truncated|partial/);
    expectRejected(Buffer.concat([sampleIndex(), Buffer.alloc(1)]), /truncated|partial/);
  });

  it('a bad tail marker', () => {
    const bytes = sampleIndex();
    expectRejected(withU64(bytes, bytes.length - 8, CA_FORMAT_TABLE_TAIL_MARKER + 1n), /marker/);
  });

  it('a bad tail table offset', () => {
    const bytes = sampleIndex();
    expectRejected(withU64(bytes, bytes.length - 24, 0n), /offset/);
    expectRejected(withU64(bytes, bytes.length - 24, 64n), /offset/);
  });

  it('a bad tail table size', () => {
    const bytes = sampleIndex();
    const size = 16 + 4 * 40 + 40;
    expectRejected(withU64(bytes, bytes.length - 16, BigInt(size - 40)), /size/);
    expectRejected(withU64(bytes, bytes.length - 16, BigInt(size + 1)), /size/);
  });

  it('a tail whose fill is not zero', () => {
    const bytes = sampleIndex();
    expectRejected(withU64(bytes, bytes.length - 40, 1n), /tail/);
    expectRejected(withU64(bytes, bytes.length - 32, 1n), /tail/);
  });

  it('a bad chunk table header', () => {
    expectRejected(withU64(sampleIndex(), 48, 56n), /table header/);
    expectRejected(withU64(sampleIndex(), 56, CA_FORMAT_INDEX), /table type/);
  });

  it('end offsets that repeat', () => {
    expectRejected(sampleIndex([100_000, 100_000, 230_000]), /increase/);
  });

  it('end offsets that decrease', () => {
    expectRejected(sampleIndex([100_000, 150_000, 140_000, 240_000]), /increase/);
    expectRejected(withU64(sampleIndex(), itemAt(0), 0n), /increase/);
  });

  it('a chunk larger than the header’s max', () => {
    expectRejected(sampleIndex([256 * KiB + 1]), /larger than the maximum/);
    expectRejected(sampleIndex([100_000, 100_000 + 256 * KiB + 1]), /larger than the maximum/);
    // exactly max is fine
    expect(parseIndex(sampleIndex([256 * KiB, 512 * KiB]), 'ok').length).toBe(2);
  });

  it('an end offset beyond 2^53', () => {
    expectRejected(withU64(sampleIndex(), itemAt(3), 2n ** 60n), /too large/);
  });

  it('unknown feature flags', () => {
    // Bit 33 onwards up to bit 59 are not defined by casync.
    expectRejected(withU64(sampleIndex(), 16, BLOB_INDEX_FLAGS | (1n << 40n)), /feature flags/);
    expectRejected(withU64(sampleIndex(), 16, 1n << 59n), /feature flags/);
  });

  it('invalid min, avg or max in the header', () => {
    const bytes = sampleIndex();
    expectRejected(withU64(bytes, 24, 0n), /chunk sizes/); // min 0
    expectRejected(withU64(bytes, 24, BigInt(128 * KiB)), /chunk sizes/); // min > avg
    expectRejected(withU64(bytes, 32, BigInt(512 * KiB)), /chunk sizes/); // avg > max
    expectRejected(
      withU64(withU64(bytes, 32, BigInt(200 * 1024 * KiB)), 40, BigInt(200 * 1024 * KiB)),
      /chunk sizes/,
    ); // max > 128 MiB
    expectRejected(withU64(bytes, 40, 2n ** 63n), /too large|chunk sizes/);
  });
});

describe('parseIndex accepts', () => {
  it('an index of no chunks', () => {
    const empty = sampleIndex([]);
    expect(empty.length).toBe(104);
    const index = parseIndex(empty, 'empty.caibx');
    expect(index.length).toBe(0);
    expect(index.blobSize).toBe(0);
  });

  it('every feature flag casync defines', () => {
    expect(parseIndex(withU64(sampleIndex(), 16, KNOWN_FLAGS), 'all-flags').featureFlags).toBe(KNOWN_FLAGS);
  });

  it('48-byte chunks under a max below 48, which casync’s window makes', () => {
    // casync fills its 48-byte window before any cut, so max < 48 still gives 48-byte chunks.
    const bytes = withU64(withU64(withU64(sampleIndex([48, 96]), 24, 1n), 32, 2n), 40, 4n);
    expect(parseIndex(bytes, 'tiny').length).toBe(2);
  });
});

describe('readIndex', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('desync-index-reader-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('rejects a missing file with FileError naming the path', async () => {
    const path = join(dir, 'missing.caibx');
    const err = await readIndex(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('FILE_ERROR');
    expect((err as FileError).file).toBe(path);
    expect((err as FileError).message).toContain(path);
  });

  it('rejects a directory with FileError', async () => {
    await expect(readIndex(dir)).rejects.toBeInstanceOf(FileError);
  });

  it('names the file it read in a format error', async () => {
    const path = join(dir, 'short.caibx');
    await writeFile(path, sampleIndex().subarray(0, 30));
    const err = await readIndex(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexFormatError);
    expect((err as IndexFormatError).message).toContain(path);
  });
});

describe('format constants', () => {
  it('are casync caformat.h’s type ids and tail marker', () => {
    expect(CA_FORMAT_INDEX).toBe(0x96824d9c7b129ff9n);
    expect(CA_FORMAT_TABLE).toBe(0xe75b9e112f17417dn);
    expect(CA_FORMAT_TABLE_TAIL_MARKER).toBe(0x4b4f050e5549ecd1n);
  });

  it('give a blob index SHA512_256, EXCLUDE_NODUMP and EXCLUDE_FILE, as Debian’s casync writes', () => {
    expect(BLOB_INDEX_FLAGS).toBe(0xb000000000000000n);
    expect(BLOB_INDEX_FLAGS).toBe(
      FeatureFlags.SHA512_256 | FeatureFlags.EXCLUDE_NODUMP | FeatureFlags.EXCLUDE_FILE,
    );
    expect(OLD_CASYNC_FLAGS & ~KNOWN_FLAGS).toBe(0n);
  });

  it('know every flag bit casync defines and no other', () => {
    expect(KNOWN_FLAGS).toBe(0xf0000001ffffffffn);
  });
});
