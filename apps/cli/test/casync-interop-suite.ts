import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateMixed,
  generateZeros,
  makeTempDir,
  randomBytes,
  removeTempDir,
  runCasync,
  writeMixedFile,
  writeRandomFile,
} from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  casyncChunkSizeArg,
  casyncPeer,
  desyncOk,
  listFiles,
  type ParsedIndex,
  parseCaibx,
  runDesync,
} from './helpers.js';

/** A kind of input file the interop suite chunks with both tools. */
export interface DataShape {
  name: string;
  /** Writes the file; deterministic, so a failure reproduces. */
  write(path: string): Promise<void>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Inputs from nothing to a file the parallel chunker splits into several sections. */
export const SHAPES = {
  empty: { name: 'an empty file', write: (p) => writeFile(p, new Uint8Array(0)) },
  oneByte: { name: 'a 1-byte file', write: (p) => writeFile(p, randomBytes(1, 1)) },
  thousandBytes: { name: 'a 1000-byte file', write: (p) => writeFile(p, randomBytes(1000, 2)) },
  exactly64KiB: { name: 'an exactly 64 KiB file', write: (p) => writeFile(p, randomBytes(64 * KiB, 3)) },
  random3MiB: { name: 'a ~3 MiB random file', write: (p) => writeRandomFile(p, 3 * MiB + 12_345, 4) },
  mixed8MiB: {
    name: 'a ~8 MiB mixed file with zero runs and repeated blocks',
    // Explicit long zero runs (all max-size chunks, deduplicated) and a repeated 1 MiB block,
    // besides the ones the mixed generator makes by itself.
    write: (p) =>
      writeFile(
        p,
        (function* () {
          yield* generateMixed(5 * MiB, 5);
          yield* generateZeros(1.5 * MiB);
          yield* generateMixed(1 * MiB, 5);
          yield* generateZeros(100);
          yield randomBytes(500 * KiB + 3, 55);
        })(),
      ),
  },
  mixed40MiB: { name: 'a ~40 MiB mixed file', write: (p) => writeMixedFile(p, 40 * MiB + 4_321, 6) },
} satisfies Record<string, DataShape>;

/** `-m` settings in KiB; undefined means no flag on either side (the 16:64:256 default). */
export const CHUNK_SETTINGS: readonly (string | undefined)[] = [undefined, '4:16:64', '32:128:512'];

// [offset, length]; length undefined means "to the end".
type Range = [number, number | undefined];

/** cat ranges: a first byte, across the first chunk boundary, over several chunks, past the end. */
function rangesFor(index: ParsedIndex): Range[] {
  const size = index.blobSize;
  const ranges: Range[] = [
    [0, 1],
    [Math.max(0, size - 5), 100],
    [size + 10, 5],
    [Math.floor(size / 2), undefined],
  ];
  if (index.chunks.length > 1) ranges.push([index.chunks[0].size - 7, 20]);
  if (index.chunks.length > 3) {
    const from = index.chunks[1].start + 3;
    ranges.push([from, index.chunks[3].start + 5 - from]);
  }
  return ranges;
}

/**
 * For each shape and each `-m` setting: our `make` and `casync make` agree byte for byte on
 * the index and file for file on the store, each tool extracts what the other stored, and
 * `cat`, `chunk` and `list-chunks` agree with casync's index.
 *
 * Without casync it skips, except in CI (CI=true), where it fails: a silent skip there would
 * let interop rot unnoticed.
 */
export function describeCasyncInterop(title: string, shapes: readonly DataShape[]): void {
  const { casync, missingInCi } = casyncPeer();

  describe(title, () => {
    it.runIf(missingInCi !== undefined)('has casync on PATH when CI=true', () => {
      throw missingInCi;
    });

    describe.skipIf(casync === undefined).concurrent.each(shapes)('with $name', (shape) => {
      let dir: string;
      let input: string;
      let content: Buffer;

      beforeAll(async () => {
        dir = await makeTempDir('desync-interop-');
        input = join(dir, 'input');
        await shape.write(input);
        content = await readFile(input);
      });
      afterAll(async () => {
        if (dir) await removeTempDir(dir);
      });

      describe.each(CHUNK_SETTINGS.map((spec) => ({ spec, label: spec ?? '16:64:256 (default)' })))(
        '-m $label',
        ({ spec }) => {
          let work: string;
          let ours: { index: string; store: string };
          let theirs: { index: string; store: string };
          let casyncIndex: ParsedIndex;
          const mFlag = spec ? ['-m', spec] : [];

          beforeAll(async () => {
            work = await makeTempDir('desync-interop-m-');
            ours = { index: join(work, 'ours.caibx'), store: join(work, 'ours.store') };
            theirs = { index: join(work, 'casync.caibx'), store: join(work, 'casync.store') };
            await Promise.all([
              desyncOk(['make', ...mFlag, '-s', ours.store, ours.index, input]),
              runCasync([
                'make',
                ...(spec ? [casyncChunkSizeArg(spec)] : []),
                `--store=${theirs.store}`,
                theirs.index,
                input,
              ]),
            ]);
            casyncIndex = await parseCaibx(theirs.index);
          });
          afterAll(async () => {
            if (work) await removeTempDir(work);
          });

          it('writes the same index bytes as casync make', async () => {
            const [a, b] = await Promise.all([readFile(ours.index), readFile(theirs.index)]);
            expect(a.equals(b)).toBe(true);
          });

          it('stores exactly the chunk files casync stores', async () => {
            expect(await listFiles(ours.store)).toEqual(await listFiles(theirs.store));
          });

          it('writes a store casync extract reads back to the original file', async () => {
            const out = join(work, 'casync-extracted');
            await runCasync(['extract', `--store=${ours.store}`, ours.index, out]);
            expect((await readFile(out)).equals(content)).toBe(true);
          });

          it('extracts the original file from the store casync wrote', async () => {
            const out = join(work, 'desync-extracted');
            await desyncOk(['extract', '-s', theirs.store, theirs.index, out]);
            expect((await readFile(out)).equals(content)).toBe(true);
          });

          it('cats the whole file, and each range as the matching slice', async () => {
            const ranges = rangesFor(casyncIndex);
            const runs = await Promise.all([
              desyncOk(['cat', '-s', ours.store, ours.index]),
              ...ranges.map(([offset, length]) =>
                desyncOk([
                  'cat',
                  '-s',
                  ours.store,
                  ours.index,
                  String(offset),
                  ...(length === undefined ? [] : [String(length)]),
                ]),
              ),
            ]);
            expect(runs[0].stdout.equals(content)).toBe(true);
            ranges.forEach(([offset, length], i) => {
              const expected = content.subarray(offset, length === undefined ? undefined : offset + length);
              expect(runs[i + 1].stdout.equals(expected), `cat ${offset} ${length}`).toBe(true);
            });
          });

          it("prints with chunk the boundaries and ids of casync's index", async () => {
            const { stdout } = await desyncOk(['chunk', ...mFlag, input]);
            const expected = casyncIndex.chunks.map((c) => `${c.start} ${c.size} ${c.id}\n`).join('');
            expect(stdout.toString()).toBe(expected);
          });

          it("lists with list-chunks the index's ids in order", async () => {
            const { stdout, stderr, code } = await runDesync(['list-chunks', ours.index]);
            expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
            expect(stdout.toString()).toBe(casyncIndex.chunks.map((c) => `${c.id}\n`).join(''));
          });
        },
      );
    });
  });
}
