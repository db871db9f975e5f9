import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkSizes, DEFAULT_CHUNK_SIZES } from '../src/index.js';
import { chunkFileAll, serialChunksOf } from './file-chunks.js';
import { readCaibx } from './read-caibx.js';
import { bytesWithRuns } from './run-data.js';
import {
  findCasync,
  makeTempDir,
  randomBytes,
  removeTempDir,
  requirePeer,
  runCasync,
  writeMixedFile,
} from './testkit.js';

// Real casync (Debian's 2+20201210) makes the index; our chunker must find the same chunks.
// Without casync these tests skip, except in CI, where requirePeer throws: a silent skip
// there would let interop rot unnoticed.
const casync = requirePeer('casync', findCasync());

const KiB = 1024;
const MiB = 1024 * KiB;

interface Input {
  name: string;
  /** Writes the input to `path`. */
  write: (path: string) => Promise<void>;
  size: number;
}

const random = (size: number, seed: number): Input => ({
  name: `${size} random bytes`,
  size,
  write: (path) => writeFile(path, randomBytes(size, seed)),
});

const inputs: Input[] = [
  { name: 'an empty file', size: 0, write: (path) => writeFile(path, new Uint8Array(0)) },
  random(1, 1),
  random(47, 2),
  random(48, 3),
  random(49, 4),
  random(100, 5),
  random(64 * KiB, 6),
  {
    name: '1 MiB of zeros and 3 bytes',
    size: MiB + 3,
    write: (path) => writeFile(path, new Uint8Array(MiB + 3)),
  },
  {
    name: '2 MiB with zero and periodic runs',
    size: 2 * MiB,
    write: (path) => writeFile(path, bytesWithRuns(2 * MiB, 300 * KiB, 7)),
  },
  random(3 * MiB, 8),
  { name: '5 MiB of tar-like mixed data', size: 5 * MiB, write: (path) => writeMixedFile(path, 5 * MiB, 9) },
];

interface Setting {
  name: string;
  /** casync's --chunk-size value, in bytes; undefined for its default. */
  flag?: string;
  sizes: ChunkSizes;
  /** Largest input worth chunking: tiny chunks make casync write one store file each. */
  upTo: number;
}

// Probed with Debian's casync: it takes min below the 48-byte window and fixed sizes, and
// refuses a non-fixed max below 48 (1:2:47 fails with "Invalid argument", 1:2:48 works).
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
  { name: '--chunk-size=1:2:48', flag: '1:2:48', sizes: { min: 1, avg: 2, max: 48 }, upTo: 64 * KiB },
  {
    name: '--chunk-size=100:100:100',
    flag: '100:100:100',
    sizes: { min: 100, avg: 100, max: 100 },
    upTo: 64 * KiB,
  },
];

let dir: string;
let made = 0;

/** Runs `casync make` on `file` and returns the chunks of the index it wrote. */
async function casyncMake(file: string, flag: string | undefined) {
  const n = made++;
  const index = join(dir, `made-${n}.caibx`);
  const args = ['make', `--store=${join(dir, `store-${n}`)}`];
  if (flag) args.push(`--chunk-size=${flag}`);
  await runCasync([...args, index, file], { casync, timeout: 120_000 });
  return readCaibx(index);
}

describe.skipIf(!casync)('chunks like casync make', () => {
  const paths = new Map<Input, string>();

  beforeAll(async () => {
    dir = await makeTempDir('desync-chunker-casync-');
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
    it.each(inputs.filter((i) => i.size <= upTo))(
      'finds casync’s boundaries and ids in $name',
      async (input) => {
        const path = paths.get(input)!;
        const index = await casyncMake(path, flag);
        expect({ min: index.min, avg: index.avg, max: index.max }).toEqual(sizes);
        const data = await readFile(path);
        expect(serialChunksOf(data, sizes)).toEqual(index.chunks);
        expect(await chunkFileAll(path, { sizes, sectionSize: 1, concurrency: 2 })).toEqual(index.chunks);
      },
    );
  });

  it('finds casync’s chunks when avg passes 9.32 MB (discriminator clamped to max)', async () => {
    const sizes = { min: MiB, avg: 16 * MiB, max: 32 * MiB };
    const path = join(dir, 'large-avg');
    const data = randomBytes(40 * MiB, 10);
    await writeFile(path, data);
    const index = await casyncMake(path, `${sizes.min}:${sizes.avg}:${sizes.max}`);
    expect(serialChunksOf(data, sizes)).toEqual(index.chunks);
    expect(await chunkFileAll(path, { sizes, concurrency: 2 })).toEqual(index.chunks);
  });
});
