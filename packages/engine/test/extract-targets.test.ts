import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileError } from '@desync/core';
import { type ChunkIndex, readIndex } from '@desync/index-format';
import { LocalStore } from '@desync/store-local';
import { makeTempDir, removeTempDir, writeRandomFile } from '@desync/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extractBlob, makeBlob } from '../src/index.js';

// Small chunks, so that a few hundred KiB make dozens of them and a zero run of the maximum
// size makes all-zero chunks.
const SIZES = { min: 4096, avg: 16384, max: 65536 };

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('engine-targets-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** Random data with a run of zeros in the middle (six maximum-size chunks and more). */
async function made(): Promise<{ input: string; store: LocalStore; index: ChunkIndex; bytes: Buffer }> {
  const random = join(dir, 'random.bin');
  await writeRandomFile(random, 256 * 1024, 21);
  const r = await readFile(random);
  const bytes = Buffer.concat([r.subarray(0, 100_000), Buffer.alloc(400_000), r.subarray(100_000)]);
  const input = join(dir, 'in.bin');
  await writeFile(input, bytes);
  const store = new LocalStore({ path: join(dir, 'store') });
  const indexPath = join(dir, 'in.caibx');
  await makeBlob({ input, indexPath, store, chunkSizes: SIZES, concurrency: 2 });
  return { input, store, index: await readIndex(indexPath), bytes };
}

/** What is left in `dir` besides the store, the input and its index (no temporary files). */
async function leftovers(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => !['store', 'random.bin', 'in.bin', 'in.caibx'].includes(f));
}

describe('extract to what is not a new or regular file', () => {
  it('writes through a symbolic link: the file it names gets the blob, the link stays', async () => {
    const { store, index, bytes } = await made();
    const real = join(dir, 'real.bin');
    await writeFile(real, 'old contents');
    const link = join(dir, 'link.bin');
    await symlink(real, link);
    await extractBlob({ index, store, output: link });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(real);
    expect(Buffer.compare(await readFile(real), bytes)).toBe(0);
    expect((await leftovers()).sort()).toEqual(['link.bin', 'real.bin']);
  });

  it('writes a character device in place (/dev/null stays a device)', async () => {
    const { store, index } = await made();
    const r = await extractBlob({ index, store, output: '/dev/null' });
    expect(r.size).toBe(index.blobSize);
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
    expect(existsSync('/dev/.null.tmp')).toBe(false);
    expect((await readdir('/dev')).filter((f) => f.startsWith('.null.'))).toEqual([]);
  });

  it('refuses a FIFO and a directory with one line naming them', async () => {
    const { store, index } = await made();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fifoError = await extractBlob({ index, store, output: fifo }).catch((e: unknown) => e);
    expect(fifoError).toBeInstanceOf(FileError);
    expect((fifoError as Error).message).toBe(
      `${fifo}: is a FIFO; extract writes at offsets: give a regular file or a device (\`desync cat\` streams a blob in order)`,
    );
    const dirError = await extractBlob({ index, store, output: dir }).catch((e: unknown) => e);
    expect(dirError).toBeInstanceOf(FileError);
    expect((dirError as Error).message).toBe(`${dir}: is a directory; give the path of a file to write`);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect((await leftovers()).sort()).toEqual(['fifo']);
  });
});

// A loop device over a file in the temp dir stands for a disk. It needs root and the loop
// driver: where both are (CI runs as root), not being able to set one up is a failure.
const canLoop = process.getuid?.() === 0 && existsSync('/dev/loop-control');

describe.runIf(canLoop)('extract to a block device (a loop device)', () => {
  let image: string;
  let imageDir: string;
  let device: string;
  const DEVICE_BYTES = 1024 * 1024;

  beforeAll(async () => {
    imageDir = await makeTempDir('engine-loop-');
    image = join(imageDir, 'disk.img');
    await writeFile(image, Buffer.alloc(DEVICE_BYTES, 0xff));
    device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
  });
  afterAll(async () => {
    if (device) spawnSync('losetup', ['--detach', device]);
    await removeTempDir(imageDir);
  });

  /** The first `size` bytes of the device, read past the page cache's copy of the image. */
  const deviceBytes = (size: number): Buffer => {
    const fd = openSync(device, 'r');
    try {
      const buf = Buffer.alloc(size);
      readSync(fd, buf, 0, size, 0);
      return buf;
    } finally {
      closeSync(fd);
    }
  };
  const fill = (byte: number): void => {
    const fd = openSync(device, 'r+');
    try {
      writeSync(fd, Buffer.alloc(DEVICE_BYTES, byte), 0, DEVICE_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  };

  it('writes every chunk, zeros too (a device does not read as zeros), and keeps the node', async () => {
    const { store, index, bytes } = await made();
    fill(0xff);
    const r = await extractBlob({ index, store, output: device });
    expect(r.zeroChunks).toBe(0);
    expect(Buffer.compare(deviceBytes(bytes.length), bytes)).toBe(0);
    expect((await stat(device)).isBlockDevice()).toBe(true);
    expect(await leftovers()).toEqual([]);
  });

  it('writes only the chunks that differ from what the device holds', async () => {
    const { store, index, bytes } = await made();
    fill(0xff);
    await extractBlob({ index, store, output: device });
    const again = await extractBlob({ index, store, output: device });
    expect(again.keptChunks).toBe(new Set(Array.from(index, (c) => c.id)).size);
    expect(again.fetchedChunks).toBe(0);
    // Damage the bytes of one chunk of random data and of one of the repeated zero chunks:
    // the first is fetched again, the second written from a place that still holds it.
    const fd = openSync(device, 'r+');
    writeSync(fd, Buffer.from('damaged'), 0, 7, 50_000);
    writeSync(fd, Buffer.from('damaged'), 0, 7, 300_000);
    closeSync(fd);
    const mended = await extractBlob({ index, store, output: device });
    expect(mended.fetchedChunks).toBe(1);
    expect(Buffer.compare(deviceBytes(bytes.length), bytes)).toBe(0);
  });

  it('refuses a device in use (mounted, or held by another program), naming it', async () => {
    const { store, index } = await made();
    fill(0x22);
    // What a mount does to a block device: an exclusive claim, as O_EXCL takes one.
    const held = openSync(device, constants.O_RDONLY | constants.O_EXCL);
    try {
      const err = await extractBlob({ index, store, output: device }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileError);
      expect((err as Error).message).toBe(`${device}: the device is in use (mounted?); unmount it first`);
    } finally {
      closeSync(held);
    }
    expect(deviceBytes(16).equals(Buffer.alloc(16, 0x22))).toBe(true);
  });

  it('refuses a device smaller than the blob, naming it, and writes nothing', async () => {
    const big = join(dir, 'big.bin');
    await writeRandomFile(big, DEVICE_BYTES + 4096, 22);
    const store = new LocalStore({ path: join(dir, 'store') });
    await makeBlob({ input: big, indexPath: join(dir, 'big.caibx'), store, chunkSizes: SIZES });
    fill(0x11);
    const index = await readIndex(join(dir, 'big.caibx'));
    const err = await extractBlob({ index, store, output: device }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as Error).message).toBe(
      `${device}: the device is smaller than the ${DEVICE_BYTES + 4096} bytes the index describes`,
    );
    expect(deviceBytes(16).equals(Buffer.alloc(16, 0x11))).toBe(true);
  });
});

it.runIf(process.env.CI === 'true' && process.getuid?.() === 0 && !canLoop)(
  'can set up a loop device when CI runs as root',
  () => {
    throw new Error('/dev/loop-control is missing: the block-device tests of extract cannot run');
  },
);
