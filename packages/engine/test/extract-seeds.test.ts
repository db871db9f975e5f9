import { copyFile, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readIndex } from '@desync/index-format';
import { LocalStore } from '@desync/store-local';
import { generateMixed, makeTempDir, randomBytes, removeTempDir, writeMixedFile } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractBlob, makeBlob, parseSeedArgument } from '../src/index.js';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('engine-seeds-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** Indexes `file` into a store of its own and returns its index path. */
async function index(file: string, storeDir: string): Promise<string> {
  const indexPath = `${file}.caibx`;
  await makeBlob({ input: file, indexPath, store: new LocalStore({ path: storeDir }), concurrency: 2 });
  return indexPath;
}

/** v1 and v2: v2 is v1 with 64 KiB of new bytes in the middle and 1 MiB appended. */
async function versions() {
  const v1 = join(dir, 'v1.raw');
  await writeMixedFile(v1, 8 * MiB, 3);
  const v2Bytes = Buffer.concat([await readFile(v1), Buffer.from(randomBytes(MiB, 9))]);
  Buffer.from(randomBytes(64 * 1024, 10)).copy(v2Bytes, 4 * MiB);
  const v2 = join(dir, 'v2.raw');
  await writeFile(v2, v2Bytes);
  const storeDir = join(dir, 'store');
  const v1Index = await index(v1, join(dir, 'v1-store'));
  const v2Index = await index(v2, storeDir);
  return { v1, v1Index, v2, v2Bytes, v2Index, store: new LocalStore({ path: storeDir }) };
}

describe('extract with seeds', () => {
  it('copies the chunks a seed holds and fetches only the rest', async () => {
    const { v1, v1Index, v2Bytes, v2Index, store } = await versions();
    const out = join(dir, 'out.raw');
    const r = await extractBlob({
      index: await readIndex(v2Index),
      store,
      output: out,
      seeds: [{ file: v1, index: v1Index }],
    });
    expectSameBytes(await readFile(out), v2Bytes);
    expect(r.seedChunks).toBeGreaterThan(r.chunks / 2);
    expect(r.fetchedChunks).toBeLessThan(r.chunks / 3);
    expect(r.bytesFrom.seed).toBeGreaterThan(6 * MiB);
    expect(r.bytesFrom[store.toString()]).toBeGreaterThan(MiB);
    expect(Object.values(r.bytesFrom).reduce((a, b) => a + b, 0)).toBe(r.size);
  });

  it('chunks a plain file on the fly when the seed has no index', async () => {
    const { v1, v2Bytes, v2Index, store } = await versions();
    const out = join(dir, 'out.raw');
    const r = await extractBlob({
      index: await readIndex(v2Index),
      store,
      output: out,
      seeds: [{ file: v1 }],
    });
    expectSameBytes(await readFile(out), v2Bytes);
    expect(r.seedChunks).toBeGreaterThan(r.chunks / 2);
  });

  it('is not fooled by a seed that changed after its index was made', async () => {
    const { v1, v1Index, v2Bytes, v2Index, store } = await versions();
    // Overwrite 2 MiB of the seed: its index now lies about those chunks.
    const h = await open(v1, 'r+');
    await h.write(Buffer.from(randomBytes(2 * MiB, 77)), 0, 2 * MiB, MiB);
    await h.close();
    const out = join(dir, 'out.raw');
    const r = await extractBlob({
      index: await readIndex(v2Index),
      store,
      output: out,
      seeds: [{ file: v1, index: v1Index }],
    });
    expectSameBytes(await readFile(out), v2Bytes);
    expect(r.fetchedChunks).toBeGreaterThan(0);
    expect(r.seedChunks).toBeGreaterThan(0);
  });

  it('uses a seed that matches only partly, and one that does not match at all', async () => {
    const { v2Bytes, v2Index, store } = await versions();
    const other = join(dir, 'other.raw');
    await writeMixedFile(other, 2 * MiB, 99);
    const out = join(dir, 'out.raw');
    const half = join(dir, 'half.raw');
    await writeFile(half, v2Bytes.subarray(0, 3 * MiB));
    const r = await extractBlob({
      index: await readIndex(v2Index),
      store,
      output: out,
      seeds: [{ file: other }, { file: half }],
    });
    expectSameBytes(await readFile(out), v2Bytes);
    expect(r.seedChunks).toBeGreaterThan(0);
    expect(r.bytesFrom.seed).toBeLessThanOrEqual(3 * MiB);
  });

  it('leaves runs of zeros as holes: the output is sparse', async () => {
    const file = join(dir, 'sparse.raw');
    const parts: Uint8Array[] = [];
    for (const p of generateMixed(MiB, 5)) parts.push(p);
    const data = Buffer.concat([
      Buffer.concat(parts),
      Buffer.alloc(16 * MiB),
      Buffer.from(randomBytes(MiB, 6)),
    ]);
    await writeFile(file, data);
    const storeDir = join(dir, 'store');
    const idx = await index(file, storeDir);
    const out = join(dir, 'out.raw');
    const r = await extractBlob({
      index: await readIndex(idx),
      store: new LocalStore({ path: storeDir }),
      output: out,
    });
    expectSameBytes(await readFile(out), data);
    expect(r.zeroChunks).toBeGreaterThan(50);
    expect(r.bytesFrom.zero).toBeGreaterThan(15 * MiB);
    const st = await stat(out);
    // Allocated blocks cover the two MiB of data, not the 16 MiB of zeros.
    expect(st.blocks * 512).toBeLessThan(6 * MiB);
  });

  it('names a seed that cannot be read', async () => {
    const { v2Index, store } = await versions();
    const missing = join(dir, 'nope.raw');
    await expect(
      extractBlob({
        index: await readIndex(v2Index),
        store,
        output: join(dir, 'o'),
        seeds: [{ file: missing }],
      }),
    ).rejects.toThrow(missing);
  });

  it('copies a seed that is the output itself (in place)', async () => {
    const { v1, v2, v2Bytes, v2Index, store } = await versions();
    const out = join(dir, 'inplace.raw');
    await copyFile(v1, out);
    await unlink(v2);
    const r = await extractBlob({ index: await readIndex(v2Index), store, output: out });
    expectSameBytes(await readFile(out), v2Bytes);
    expect(r.keptChunks).toBeGreaterThan(0);
  });
});

describe('parseSeedArgument', () => {
  it('reads X.caibx, X.caibx=DATA and plain files', () => {
    expect(parseSeedArgument('/a/v1.raw.caibx')).toEqual({ index: '/a/v1.raw.caibx', file: '/a/v1.raw' });
    expect(parseSeedArgument('/a/v1.caibx=/dev/sda2')).toEqual({ index: '/a/v1.caibx', file: '/dev/sda2' });
    expect(parseSeedArgument('/dev/sda2')).toEqual({ file: '/dev/sda2' });
  });
});
