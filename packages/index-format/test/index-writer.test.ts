import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChunkId, FileError } from '@desync/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BLOB_INDEX_FLAGS,
  ChunkIndex,
  encodeIndex,
  encodeIndexHead,
  encodeIndexTail,
  IndexWriter,
  parseIndex,
  writeIndex,
} from '../src/index.js';
import { makeTempDir, removeTempDir } from './testkit.js';

const SIZES = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };

function idOf(i: number): ChunkId {
  return (i + 1).toString(16).padStart(64, 'a') as ChunkId;
}

/** An index of `count` chunks of 1000 to 1999 bytes. */
function indexOf(count: number): ChunkIndex {
  const chunks = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const size = 1000 + ((i * 7919) % 1000);
    chunks.push({ start, size, id: idOf(i) });
    start += size;
  }
  return ChunkIndex.fromChunks(chunks, BLOB_INDEX_FLAGS, SIZES);
}

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('desync-index-writer-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

async function writeWithWriter(path: string, index: ChunkIndex): Promise<void> {
  const writer = await IndexWriter.create(path, {
    featureFlags: index.featureFlags,
    chunkSizes: index.chunkSizes,
  });
  for (let i = 0; i < index.length; i++) await writer.add(index.end(i), index.id(i));
  await writer.finish();
}

describe('encodeIndex', () => {
  it('lays out header, table header, 40-byte items and tail as casync does', () => {
    const index = indexOf(3);
    const bytes = encodeIndex(index);
    expect(bytes.length).toBe(48 + 16 + 3 * 40 + 40);
    expect(bytes.subarray(0, 64).equals(encodeIndexHead(BLOB_INDEX_FLAGS, SIZES))).toBe(true);
    expect(bytes.subarray(bytes.length - 40).equals(encodeIndexTail(3))).toBe(true);
    expect(bytes.readBigUInt64LE(64)).toBe(BigInt(index.end(0)));
    expect(bytes.subarray(72, 104).toString('hex')).toBe(index.id(0));
  });

  it('writes an index of no chunks as 104 bytes that parse back', () => {
    const empty = ChunkIndex.fromChunks([], BLOB_INDEX_FLAGS, SIZES);
    const bytes = encodeIndex(empty);
    expect(bytes.length).toBe(104);
    expect(parseIndex(bytes, 'empty').length).toBe(0);
  });

  it('round-trips through parseIndex', () => {
    const bytes = encodeIndex(indexOf(500));
    expect(encodeIndex(parseIndex(bytes, 'x')).equals(bytes)).toBe(true);
  });
});

describe('encodeIndexTail', () => {
  it('records the table offset (48), the table size and the marker', () => {
    const tail = encodeIndexTail(2);
    expect(tail.length).toBe(40);
    expect(tail.readBigUInt64LE(0)).toBe(0n);
    expect(tail.readBigUInt64LE(8)).toBe(0n);
    expect(tail.readBigUInt64LE(16)).toBe(48n);
    expect(tail.readBigUInt64LE(24)).toBe(BigInt(16 + 2 * 40 + 40));
    expect(tail.readBigUInt64LE(32)).toBe(0x4b4f050e5549ecd1n);
  });
});

describe('IndexWriter', () => {
  it('writes what encodeIndex does, for small and large tables', async () => {
    // 5000 items pass the writer's 64 KiB flush point several times.
    for (const count of [0, 1, 3, 1638, 5000]) {
      const path = join(dir, `n${count}.caibx`);
      const index = indexOf(count);
      await writeWithWriter(path, index);
      expect((await readFile(path)).equals(encodeIndex(index))).toBe(true);
    }
  });

  it('creates the target only when finish() is called', async () => {
    const path = join(dir, 'late.caibx');
    const index = indexOf(2000);
    const writer = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES });
    expect(writer.path).toBe(path);
    for (let i = 0; i < index.length; i++) {
      await writer.add(index.end(i), index.id(i));
      if (i % 500 === 0) expect(existsSync(path)).toBe(false);
    }
    expect(existsSync(path)).toBe(false);
    await writer.finish();
    expect(existsSync(path)).toBe(true);
    expect(await readdir(dir)).toEqual(['late.caibx']);
  });

  it('leaves neither the index nor a temporary file after abort()', async () => {
    const path = join(dir, 'dropped.caibx');
    const index = indexOf(3000);
    const writer = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES });
    for (let i = 0; i < index.length; i++) await writer.add(index.end(i), index.id(i));
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
    // A second abort is harmless.
    await writer.abort();
  });

  it('keeps an existing index intact until finish() replaces it', async () => {
    const path = join(dir, 'existing.caibx');
    const old = encodeIndex(indexOf(2));
    await writeFile(path, old);
    const replacement = indexOf(5);
    const writer = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES });
    for (let i = 0; i < replacement.length; i++) await writer.add(replacement.end(i), replacement.id(i));
    expect((await readFile(path)).equals(old)).toBe(true);
    await writer.finish();
    expect((await readFile(path)).equals(encodeIndex(replacement))).toBe(true);
  });

  it('leaves an existing index intact on abort()', async () => {
    const path = join(dir, 'kept.caibx');
    const old = encodeIndex(indexOf(2));
    await writeFile(path, old);
    const writer = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES });
    await writer.add(10, idOf(0));
    await writer.abort();
    expect((await readFile(path)).equals(old)).toBe(true);
    expect(await readdir(dir)).toEqual(['kept.caibx']);
  });

  it('fails with FileError naming the target when its directory is missing', async () => {
    const path = join(dir, 'no-such-dir', 'x.caibx');
    const err = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('FILE_ERROR');
    expect((err as FileError).file).toBe(path);
    expect((err as FileError).message).toContain(path);
  });

  it('fails finish() with FileError and removes its temporary file when the rename fails', async () => {
    // The target became a non-empty directory while the index was written: the final rename
    // cannot replace it (a directory there from the start is refused by create()).
    const path = join(dir, 'taken.caibx');
    const writer = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES });
    await writer.add(10, idOf(0));
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    await expect(
      IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES }),
    ).rejects.toThrow(`${path}: is a directory; give the path of a file to write`);
    const err = await writer.finish().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).message).toContain(path);
    expect(await readdir(dir)).toEqual(['taken.caibx']);
  });

  it('fails finish() with FileError when the directory vanished while writing', async () => {
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const path = join(sub, 'gone.caibx');
    const writer = await IndexWriter.create(path, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: SIZES });
    await writer.add(10, idOf(0));
    await rm(sub, { recursive: true });
    await expect(writer.finish()).rejects.toBeInstanceOf(FileError);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a chunk end that does not follow the previous one', async () => {
    const writer = await IndexWriter.create(join(dir, 'order.caibx'), {
      featureFlags: BLOB_INDEX_FLAGS,
      chunkSizes: SIZES,
    });
    await writer.add(100, idOf(0));
    await expect(writer.add(100, idOf(1))).rejects.toThrow(RangeError);
    await expect(writer.add(50, idOf(1))).rejects.toThrow(RangeError);
    await writer.abort();
    // The first chunk cannot end at 0 either: a chunk has at least one byte.
    const empty = await IndexWriter.create(join(dir, 'zero.caibx'), {
      featureFlags: BLOB_INDEX_FLAGS,
      chunkSizes: SIZES,
    });
    await expect(empty.add(0, idOf(0))).rejects.toThrow(RangeError);
    await empty.abort();
  });
});

describe('writeIndex', () => {
  it('writes the bytes of encodeIndex, atomically, with no temporary file left', async () => {
    const path = join(dir, 'whole.caibx');
    const index = indexOf(4000);
    await writeIndex(path, index);
    expect((await readFile(path)).equals(encodeIndex(index))).toBe(true);
    expect(await readdir(dir)).toEqual(['whole.caibx']);
  });

  it('fails with FileError when the directory is missing', async () => {
    await expect(writeIndex(join(dir, 'missing', 'x.caibx'), indexOf(1))).rejects.toBeInstanceOf(FileError);
  });

  it('writes through a symbolic link, into a FIFO and into /dev/null without replacing them', async () => {
    const index = indexOf(700);
    const real = join(dir, 'real.caibx');
    await writeFile(real, 'old');
    const link = join(dir, 'link.caibx');
    await symlink(real, link);
    await writeWithWriter(link, index);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await readFile(real)).equals(encodeIndex(index))).toBe(true);

    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const read = (async () => {
      const parts: Buffer[] = [];
      for await (const p of createReadStream(fifo)) parts.push(p as Buffer);
      return Buffer.concat(parts);
    })();
    await writeWithWriter(fifo, index);
    expect((await read).equals(encodeIndex(index))).toBe(true);
    expect((await lstat(fifo)).isFIFO()).toBe(true);

    await writeWithWriter('/dev/null', index);
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['fifo', 'link.caibx', 'real.caibx']);
  });
});
