import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BLOB_INDEX_FLAGS,
  ChunkIndex,
  encodeIndex,
  IndexWriter,
  parseIndex,
  readIndex,
  writeIndex,
} from '../src/index.js';
import { type ChunkSizes, chunkFile, DEFAULT_CHUNK_SIZES } from './chunker.js';
import {
  findCasync,
  makeTempDir,
  randomBytes,
  removeTempDir,
  requirePeer,
  runCasync,
  writeMixedFile,
} from './testkit.js';

// Indexes made by real casync (Debian's 2+20201210) must read and write back byte for byte,
// and ours, made from our chunker's output, must equal casync's. Without casync these tests
// skip, except in CI, where requirePeer throws: a silent skip there would hide the loss.
const casync = requirePeer('casync', findCasync());

const KiB = 1024;
const MiB = 1024 * KiB;

interface Input {
  name: string;
  size: number;
  write: (path: string) => Promise<void>;
}

const inputs: Input[] = [
  { name: 'an empty file', size: 0, write: (p) => writeFile(p, new Uint8Array(0)) },
  { name: '1 byte', size: 1, write: (p) => writeFile(p, randomBytes(1, 1)) },
  { name: '100 random bytes', size: 100, write: (p) => writeFile(p, randomBytes(100, 2)) },
  { name: '64 KiB random', size: 64 * KiB, write: (p) => writeFile(p, randomBytes(64 * KiB, 3)) },
  { name: '1 MiB of zeros', size: MiB, write: (p) => writeFile(p, new Uint8Array(MiB)) },
  { name: '3 MiB random', size: 3 * MiB, write: (p) => writeFile(p, randomBytes(3 * MiB, 4)) },
  { name: '4 MiB tar-like mixed', size: 4 * MiB, write: (p) => writeMixedFile(p, 4 * MiB, 5) },
];

interface Setting {
  name: string;
  flag?: string;
  sizes: ChunkSizes;
  /** Largest input worth indexing: tiny chunks make casync write one store file each. */
  upTo: number;
}

const settings: Setting[] = [
  { name: 'casync’s default sizes', sizes: DEFAULT_CHUNK_SIZES, upTo: Number.POSITIVE_INFINITY },
  {
    name: '--chunk-size=4096:16384:65536',
    flag: '4096:16384:65536',
    sizes: { min: 4096, avg: 16384, max: 65536 },
    upTo: Number.POSITIVE_INFINITY,
  },
  {
    name: '--chunk-size=20000:50000:70000',
    flag: '20000:50000:70000',
    sizes: { min: 20000, avg: 50000, max: 70000 },
    upTo: Number.POSITIVE_INFINITY,
  },
  {
    name: '--chunk-size=65536:65536:65536',
    flag: '65536:65536:65536',
    sizes: { min: 65536, avg: 65536, max: 65536 },
    upTo: Number.POSITIVE_INFINITY,
  },
  {
    name: '--chunk-size=16:64:1024',
    flag: '16:64:1024',
    sizes: { min: 16, avg: 64, max: 1024 },
    upTo: 64 * KiB,
  },
];

let dir: string;
let made = 0;

/** Runs `casync make` on `file`; returns the path of the index it wrote. */
async function casyncMake(file: string, flag: string | undefined): Promise<string> {
  const n = made++;
  const index = join(dir, `casync-${n}.caibx`);
  const args = ['make', `--store=${join(dir, `store-${n}`)}`];
  if (flag) args.push(`--chunk-size=${flag}`);
  await runCasync([...args, index, file], { casync, timeout: 120_000 });
  return index;
}

describe.skipIf(!casync)('indexes made by casync make', () => {
  const paths = new Map<Input, string>();

  beforeAll(async () => {
    dir = await makeTempDir('desync-index-casync-');
    for (const [i, input] of inputs.entries()) {
      const path = join(dir, `input-${i}`);
      await input.write(path);
      paths.set(input, path);
    }
  });

  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  describe.each(settings)('with $name', ({ flag, sizes, upTo }) => {
    const cases = inputs.filter((i) => i.size <= upTo);

    it.each(cases)('reads and encodes back byte for byte the index of $name', async (input) => {
      const indexPath = await casyncMake(paths.get(input)!, flag);
      const bytes = await readFile(indexPath);
      const index = parseIndex(bytes, indexPath);
      expect(index.featureFlags).toBe(BLOB_INDEX_FLAGS);
      expect(index.chunkSizes).toEqual(sizes);
      expect(index.blobSize).toBe(input.size);
      expect(encodeIndex(index).equals(bytes)).toBe(true);
      // writeIndex of what readIndex read gives the same file again.
      const copy = join(dir, `copy-${made}.caibx`);
      await writeIndex(copy, await readIndex(indexPath));
      expect((await readFile(copy)).equals(bytes)).toBe(true);
    });

    it.each(cases)('writes, from our chunker’s chunks of $name, the index casync writes', async (input) => {
      const file = paths.get(input)!;
      const expected = await readFile(await casyncMake(file, flag));
      const ours = join(dir, `ours-${made++}.caibx`);
      const writer = await IndexWriter.create(ours, { featureFlags: BLOB_INDEX_FLAGS, chunkSizes: sizes });
      const chunks = [];
      for await (const batch of chunkFile(file, { sizes, sectionSize: 1, concurrency: 2 })) {
        for (const c of batch) {
          await writer.add(c.start + c.size, c.id);
          chunks.push(c);
        }
      }
      await writer.finish();
      expect((await readFile(ours)).equals(expected)).toBe(true);
      expect(encodeIndex(ChunkIndex.fromChunks(chunks, BLOB_INDEX_FLAGS, sizes)).equals(expected)).toBe(true);
    });
  });
});

describe.skipIf(!casync)('a casync archive index (.caidx)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('index-format-caidx-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('reads and writes back byte for byte, with the archive feature flags', async () => {
    const tree = join(dir, 'tree');
    const { mkdir, symlink } = await import('node:fs/promises');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'hello\n');
    await writeMixedFile(join(tree, 'sub', 'big.bin'), 3 * MiB, 9);
    await symlink('a.txt', join(tree, 'link'));
    const indexPath = join(dir, 'tree.caidx');
    await runCasync(['make', `--store=${join(dir, 'store')}`, indexPath, tree]);
    const bytes = await readFile(indexPath);
    const index = parseIndex(bytes, indexPath);
    expect(index.featureFlags).not.toBe(BLOB_INDEX_FLAGS);
    expect(index.length).toBeGreaterThan(1);
    expect(encodeIndex(index).equals(bytes)).toBe(true);
    const copy = join(dir, 'copy.caidx');
    await writeIndex(copy, index);
    expect((await readFile(copy)).equals(bytes)).toBe(true);
  });
});
