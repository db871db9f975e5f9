import { copyFile, cp, mkdir, open, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES } from '@desync/core';
import { makeTempDir, randomBytes, removeTempDir, writeRandomFile } from '@desync/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkPath,
  desyncOk,
  expectOneLineError,
  type IndexEntry,
  type ParsedIndex,
  parseCaibx,
  rawZstdFrame,
  runDesync,
  storeIds,
  withSmallTmpfs,
} from './helpers.js';

const SIZE = 3 * 1024 * 1024 + 1234;

describe('extract', () => {
  let root: string;
  let original: string;
  let content: Buffer;
  let index: string;
  let parsed: ParsedIndex;
  let pristine: string;
  // Per test: a private copy of the store and an empty directory for the output.
  let dir: string;
  let store: string;
  let outDir: string;
  let out: string;

  beforeAll(async () => {
    root = await makeTempDir('desync-extract-');
    original = join(root, 'original');
    index = join(root, 'original.caibx');
    pristine = join(root, 'pristine.store');
    await writeRandomFile(original, SIZE, 21);
    content = await readFile(original);
    await desyncOk(['make', '-s', pristine, index, original]);
    parsed = await parseCaibx(index);
    expect(parsed.chunks.length).toBeGreaterThan(10);
  });
  afterAll(async () => {
    if (root) await removeTempDir(root);
  });
  beforeEach(async () => {
    dir = await makeTempDir('desync-extract-case-');
    store = join(dir, 'store');
    outDir = join(dir, 'out');
    out = join(outDir, 'blob');
    await cp(pristine, store, { recursive: true });
    await mkdir(outDir);
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const middleChunk = (): IndexEntry => parsed.chunks[Math.floor(parsed.chunks.length / 2)];

  it('reproduces the file', async () => {
    await desyncOk(['extract', '-s', store, index, out]);
    expect((await readFile(out)).equals(content)).toBe(true);
    expect(await readdir(outDir)).toEqual(['blob']);
  });

  it('repairs an existing copy, keeping the chunks it already has right', async () => {
    await copyFile(original, out);
    const handle = await open(out, 'r+');
    const damaged = [100_000, 2_000_000];
    for (const at of damaged) await handle.write(Buffer.from('XYZ'), 0, 3, at);
    await handle.close();
    // A store holding only the damaged chunks: the rest can only come from the existing file.
    const partial = join(dir, 'partial');
    const needed = parsed.chunks.filter((c) =>
      damaged.some((at) => at + 3 > c.start && at < c.start + c.size),
    );
    for (const c of needed) {
      await mkdir(join(partial, c.id.slice(0, 4)), { recursive: true });
      await copyFile(chunkPath(store, c.id), chunkPath(partial, c.id));
    }
    await desyncOk(['extract', '-s', partial, index, out]);
    expect((await readFile(out)).equals(content)).toBe(true);
    expect(await readdir(outDir)).toEqual(['blob']);
  });

  it('fails naming a missing chunk, leaving no output and no temp file', async () => {
    const gone = middleChunk();
    await unlink(chunkPath(store, gone.id));
    const result = await runDesync(['extract', '-s', store, index, out]);
    expectOneLineError(result, [gone.id]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_MISSING);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('fails naming a chunk file overwritten with garbage, leaving no output and no temp file', async () => {
    const bad = middleChunk();
    await writeFile(chunkPath(store, bad.id), randomBytes(5000, 22));
    const result = await runDesync(['extract', '-s', store, index, out]);
    expectOneLineError(result, [bad.id]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_INVALID);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('fails naming a chunk file holding a valid zstd frame of other data of the same size', async () => {
    const bad = middleChunk();
    await writeFile(chunkPath(store, bad.id), rawZstdFrame(randomBytes(bad.size, 23)));
    const result = await runDesync(['extract', '-s', store, index, out]);
    expectOneLineError(result, [bad.id]);
    expect(result.code).toBe(EXIT_CODES.CHUNK_INVALID);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('fails naming the store and chunk when a chunk cannot be read, leaving no output', async () => {
    // A chunk directory replaced by a file: opening the chunk fails with ENOTDIR, a store fault.
    const bad = middleChunk();
    const chunkDir = join(store, bad.id.slice(0, 4));
    await rm(chunkDir, { recursive: true });
    await writeFile(chunkDir, 'not a directory');
    const result = await runDesync(['extract', '-s', store, index, out]);
    expectOneLineError(result, [store, bad.id, 'not a directory']);
    expect(result.code).toBe(EXIT_CODES.STORE_ERROR);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('leaves an existing output untouched when a chunk is missing', async () => {
    const before = Buffer.from('an older version of the file\n');
    await writeFile(out, before);
    await unlink(chunkPath(store, middleChunk().id));
    const result = await runDesync(['extract', '-s', store, index, out]);
    expectOneLineError(result, [middleChunk().id]);
    expect(await readdir(outDir)).toEqual(['blob']);
    expect((await readFile(out)).equals(before)).toBe(true);
  });

  it('fails naming the output when its disk is full, leaving no temp file (root: a small tmpfs)', (ctx) =>
    withSmallTmpfs(join(dir, 'small'), ctx, async (mount) => {
      const target = join(mount, 'blob');
      const result = await runDesync(['extract', '-s', store, index, target]);
      expectOneLineError(result, [target, 'no space left']);
      expect(result.code).toBe(EXIT_CODES.FILE_ERROR);
      expect(await readdir(mount)).toEqual([]);
    }));

  it('prints a stack trace with DESYNC_DEBUG=1', async () => {
    await unlink(chunkPath(store, middleChunk().id));
    const result = await runDesync(['extract', '-s', store, index, out], { env: { DESYNC_DEBUG: '1' } });
    expect(result.code).toBe(EXIT_CODES.CHUNK_MISSING);
    expect(result.stderr).toMatch(/^\s+at /m);
    expect(result.stderr).toContain(`desync: chunk ${middleChunk().id}`);
    expect(await readdir(outDir)).toEqual([]);
  });

  describe('with several stores', () => {
    let first: string;
    let second: string;

    beforeEach(async () => {
      // Every other chunk in each store.
      first = join(dir, 'first');
      second = join(dir, 'second');
      const ids = await storeIds(store);
      for (const [i, id] of ids.entries()) {
        const target = i % 2 === 0 ? first : second;
        await mkdir(join(target, id.slice(0, 4)), { recursive: true });
        await copyFile(chunkPath(store, id), chunkPath(target, id));
      }
    });

    it('reads chunks split over two -s stores', async () => {
      await desyncOk(['extract', '-s', first, '-s', second, index, out]);
      expect((await readFile(out)).equals(content)).toBe(true);
    });

    it('fails naming a chunk when one of the two stores is left out', async () => {
      const result = await runDesync(['extract', '-s', first, index, out]);
      const line = expectOneLineError(result);
      const named = line.match(/[0-9a-f]{64}/)?.[0];
      expect(await storeIds(second)).toContain(named);
      expect(await readdir(outDir)).toEqual([]);
    });
  });

  describe('with a cache', () => {
    it('fills the cache, then extracts from it once the store is emptied', async () => {
      const cache = join(dir, 'cache');
      await desyncOk(['extract', '-s', store, '-c', cache, index, out]);
      expect(await storeIds(cache)).toEqual(await storeIds(store));
      await rm(store, { recursive: true });
      await mkdir(store);
      const again = join(outDir, 'again');
      await desyncOk(['extract', '-s', store, '-c', cache, index, again]);
      expect((await readFile(again)).equals(content)).toBe(true);
    });

    it('takes chunks the store has lost from the cache and the rest from the store', async () => {
      const cache = join(dir, 'cache');
      await desyncOk(['extract', '-s', store, '-c', cache, index, out]);
      const ids = await storeIds(store);
      // Half the chunks gone from the store, the other half from the cache.
      for (const [i, id] of ids.entries()) await unlink(chunkPath(i % 2 === 0 ? store : cache, id));
      const again = join(outDir, 'again');
      await desyncOk(['extract', '-s', store, '-c', cache, index, again]);
      expect((await readFile(again)).equals(content)).toBe(true);
    });
  });

  describe('the cache command', () => {
    it('fills a cache with every chunk the index needs', async () => {
      const cache = join(dir, 'cache');
      await desyncOk(['cache', '-s', store, '-c', cache, index]);
      const unique = [...new Set(parsed.chunks.map((c) => c.id))].sort();
      expect(await storeIds(cache)).toEqual(unique);
      await rm(store, { recursive: true });
      await desyncOk(['extract', '-s', store, '-c', cache, index, out]);
      expect((await readFile(out)).equals(content)).toBe(true);
    });
  });
});
