import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CacheStore,
  ChunkInvalid,
  ChunkMissing,
  DataMismatch,
  digestChunk,
  FileError,
  type Store,
  StoreRouter,
} from '@desync/core';
import { readIndex } from '@desync/index-format';
import { LocalStore } from '@desync/store-local';
import { makeTempDir, randomBytes, removeTempDir, writeMixedFile, writeRandomFile } from '@desync/testkit';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chopFile,
  extractBlob,
  fillCache,
  listFileChunks,
  makeBlob,
  pruneStore,
  readBlob,
  verifyStore,
} from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('engine-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

async function chunkFiles(store: string): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of await readdir(store).catch(() => [])) {
    for (const f of await readdir(join(store, prefix))) out.push(join(store, prefix, f));
  }
  return out.sort();
}

/** Byte equality without vitest's element-wise diff (slow on megabytes). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** What an extract to `dir`/out.bin left: the output or its temporary file. */
async function outputsLeft(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith('out') || f.startsWith('.out'));
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function made(size = 6 * 1024 * 1024) {
  const input = join(dir, 'in.bin');
  await writeMixedFile(input, size, 7);
  const store = new LocalStore({ path: join(dir, 'store') });
  const indexPath = join(dir, 'in.caibx');
  const result = await makeBlob({ input, indexPath, store, concurrency: 2 });
  return { input, store, indexPath, result, index: await readIndex(indexPath) };
}

describe('makeBlob and extractBlob', () => {
  it('stores every chunk once and extracts the identical file', async () => {
    const { input, store, index, result } = await made();
    expect(result.chunks).toBe(index.length);
    expect((await chunkFiles(store.path)).length).toBe(new Set(Array.from(index, (c) => c.id)).size);
    expect(result.storedChunks).toBe((await chunkFiles(store.path)).length);
    const out = join(dir, 'out.bin');
    const r = await extractBlob({ index, store, output: out });
    expect(r.size).toBe((await stat(input)).size);
    expectSameBytes(await readFile(out), await readFile(input));
  });

  it("extracts chunks whose files are larger than a worker's first read buffer", async () => {
    // Random data does not compress: 1-4 MiB chunks make chunk files of about that size,
    // well past the 512 KiB a worker reads into at first.
    const input = join(dir, 'big-chunks.bin');
    await writeRandomFile(input, 24 * 1024 * 1024, 11);
    const store = new LocalStore({ path: join(dir, 'store') });
    const indexPath = join(dir, 'big-chunks.caibx');
    const chunkSizes = { min: 1024 * 1024, avg: 2 * 1024 * 1024, max: 4 * 1024 * 1024 };
    await makeBlob({ input, indexPath, store, chunkSizes, concurrency: 2 });
    const sizes = await Promise.all((await chunkFiles(store.path)).map(async (f) => (await stat(f)).size));
    expect(Math.max(...sizes)).toBeGreaterThan(2 * 1024 * 1024);
    const out = join(dir, 'big-chunks.out');
    await extractBlob({ index: await readIndex(indexPath), store, output: out });
    expectSameBytes(await readFile(out), await readFile(input));
  });

  it('extracts from a store the page cache has dropped (read ahead of the workers)', async () => {
    // Small chunks: more than the batches in flight at once, so reading ahead has work.
    const input = join(dir, 'cold.bin');
    await writeRandomFile(input, 3 * 1024 * 1024, 12);
    const store = new LocalStore({ path: join(dir, 'store') });
    const indexPath = join(dir, 'cold.caibx');
    const chunkSizes = { min: 2048, avg: 8192, max: 32768 };
    await makeBlob({ input, indexPath, store, chunkSizes, concurrency: 2 });
    const files = await chunkFiles(store.path);
    expect(files.length).toBeGreaterThan(300);
    // Written back, then dropped from the cache file by file (posix_fadvise DONTNEED).
    spawnSync('sync');
    for (const f of files) spawnSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
    const out = join(dir, 'cold.out');
    const r = await extractBlob({ index: await readIndex(indexPath), store, output: out });
    expect(r.fetchedChunks).toBe(files.length);
    expectSameBytes(await readFile(out), await readFile(input));
  });

  it('stores nothing new when the chunks are there already', async () => {
    const { input, store, indexPath } = await made();
    const again = await makeBlob({ input, indexPath: `${indexPath}.2`, store });
    expect(again.storedChunks).toBe(0);
    expectSameBytes(await readFile(`${indexPath}.2`), await readFile(indexPath));
  });

  it('stores only the chunks a store lacks, and counts each once', async () => {
    const { input, store, indexPath, result } = await made(12 * 1024 * 1024);
    const files = await chunkFiles(store.path);
    expect(result.storedChunks).toBe(files.length);
    expect(result.storedBytes).toBe(
      (await Promise.all(files.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0),
    );
    // Take every other chunk out again: a make writes back exactly those.
    const removed = files.filter((_, i) => i % 2 === 0);
    const bytes = (await Promise.all(removed.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);
    for (const f of removed) rmSync(f);
    const again = await makeBlob({ input, indexPath: `${indexPath}.2`, store, concurrency: 2 });
    expect(again.storedChunks).toBe(removed.length);
    expect(again.storedBytes).toBe(bytes);
    expect(await chunkFiles(store.path)).toEqual(files);
    expectSameBytes(await readFile(`${indexPath}.2`), await readFile(indexPath));
    const third = await makeBlob({ input, indexPath: `${indexPath}.3`, store, concurrency: 2 });
    expect(third.storedChunks).toBe(0);
    expect(third.storedBytes).toBe(0);
  });

  it('stores exactly the chunks of the index when runs without cuts cross section borders', async () => {
    // Periodic runs (a 1000-byte pattern) rarely contain a cut, so sections that start in
    // them do not line up with the real cuts until the run ends: the chunker then re-chunks
    // from the last real cut, and reports the chunks it stored from the wrong cuts.
    const input = join(dir, 'runs.bin');
    const MiB = 1024 * 1024;
    const data = randomBytes(40 * MiB, 5);
    for (let k = 1; k < 8; k++) {
      const pattern = randomBytes(1000, k);
      for (let p = k * 5 * MiB - MiB / 2; p < k * 5 * MiB + 2 * MiB; p += 1000) pattern.copy(data, p);
    }
    await writeFile(input, data);
    const store = new LocalStore({ path: join(dir, 'store') });
    const result = await makeBlob({ input, indexPath: join(dir, 'runs.caibx'), store, concurrency: 2 });
    const index = await readIndex(join(dir, 'runs.caibx'));
    const ids = new Set(Array.from(index, (c) => c.id));
    const files = new Set((await chunkFiles(store.path)).map((f) => f.slice(-70, -6)));
    expect(files).toEqual(ids);
    expect(result.storedChunks).toBe(files.size);
    expect(result.strayChunks).toBeGreaterThan(0);
    expect((await verifyStore({ store })).invalid).toBe(0);
    const out = join(dir, 'runs.out');
    await extractBlob({ index, store, output: out });
    expectSameBytes(await readFile(out), data);
  });

  it('stores again, before the index appears, chunks removed while it ran', async () => {
    const { input, store, indexPath } = await made(2 * 1024 * 1024);
    const before = await chunkFiles(store.path);
    let removed = false;
    const progress = {
      start() {},
      stop() {},
      // A concurrent prune: every chunk goes after this run has found it present.
      update() {
        if (removed) return;
        removed = true;
        for (const f of before) rmSync(f);
      },
    };
    const result = await makeBlob({ input, indexPath: `${indexPath}.2`, store, progress });
    expect(removed).toBe(true);
    expect(result.storedChunks).toBe(before.length);
    expect(await chunkFiles(store.path)).toEqual(before);
  });

  it('handles an empty file', async () => {
    const input = join(dir, 'empty');
    await writeFile(input, '');
    const store = new LocalStore({ path: join(dir, 'store') });
    await makeBlob({ input, indexPath: join(dir, 'e.caibx'), store });
    const index = await readIndex(join(dir, 'e.caibx'));
    expect(index.length).toBe(0);
    await extractBlob({ index, store, output: join(dir, 'e.out') });
    expect((await stat(join(dir, 'e.out'))).size).toBe(0);
  });

  it('keeps chunks already correct in an existing output', async () => {
    const { input, store, index } = await made();
    const out = join(dir, 'out.bin');
    const original = await readFile(input);
    const damaged = Buffer.from(original);
    damaged[100] ^= 0xff;
    damaged[damaged.length - 5] ^= 0xff;
    await writeFile(out, damaged);
    const r = await extractBlob({ index, store, output: out });
    expectSameBytes(await readFile(out), original);
    expect(r.keptChunks).toBeGreaterThan(0);
    expect(r.fetchedChunks).toBeLessThanOrEqual(2);
  });

  it('fails on a missing chunk, naming it, and leaves no output or temp file', async () => {
    const { store, index } = await made(2 * 1024 * 1024);
    const victim = (await chunkFiles(store.path))[0];
    await unlink(victim);
    const out = join(dir, 'out', 'x.bin');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'out')));
    const err = await extractBlob({ index, store, output: out }).catch((e) => e);
    expect(err).toBeInstanceOf(ChunkMissing);
    expect(err.message).toContain(victim.slice(-70, -6));
    expect(await readdir(join(dir, 'out'))).toEqual([]);
  });

  it('fails on a corrupt chunk with ChunkInvalid and leaves nothing', async () => {
    const { store, index } = await made(2 * 1024 * 1024);
    const victim = (await chunkFiles(store.path))[1];
    await writeFile(victim, Buffer.from('not a zstd frame'));
    const out = join(dir, 'out.bin');
    const err = await extractBlob({ index, store, output: out }).catch((e) => e);
    expect(err).toBeInstanceOf(ChunkInvalid);
    await expect(stat(out)).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('makes no index when the input is missing', async () => {
    const store = new LocalStore({ path: join(dir, 'store') });
    await expect(
      makeBlob({ input: join(dir, 'nope'), indexPath: join(dir, 'x.caibx'), store }),
    ).rejects.toThrow(/nope/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('readBlob', () => {
  it('returns the blob and any range of it', async () => {
    const { input, store, index } = await made(3 * 1024 * 1024);
    const original = await readFile(input);
    expectSameBytes(await collect(readBlob({ index, store })), original);
    const c = index.chunk(2);
    for (const [offset, length] of [
      [0, 1],
      [c.start - 10, 20],
      [c.start, c.size],
      [original.length - 3, 100],
      [12345, 700000],
    ]) {
      const got = await collect(readBlob({ index, store, offset, length }));
      expectSameBytes(got, original.subarray(offset, offset + length));
    }
    expect((await collect(readBlob({ index, store, offset: original.length + 5 }))).length).toBe(0);
  });
});

describe('store operations', () => {
  it('verifyStore finds and removes a corrupt chunk', async () => {
    const { store } = await made(2 * 1024 * 1024);
    const files = await chunkFiles(store.path);
    await writeFile(files[0], Buffer.from('garbage'));
    const invalid: string[] = [];
    const r = await verifyStore({ store, onInvalid: (id) => invalid.push(id) });
    expect(r).toEqual({ checked: files.length, invalid: 1, removed: 0 });
    const repaired = await verifyStore({ store, repair: true });
    expect(repaired.removed).toBe(1);
    expect((await chunkFiles(store.path)).length).toBe(files.length - 1);
    expect(invalid[0]).toBe(files[0].slice(-70, -6));
  });

  it('pruneStore keeps exactly the referenced chunks', async () => {
    const { store, index, input } = await made(2 * 1024 * 1024);
    const other = join(dir, 'other.bin');
    await writeRandomFile(other, 1024 * 1024, 3);
    await makeBlob({ input: other, indexPath: join(dir, 'other.caibx'), store });
    const before = (await chunkFiles(store.path)).length;
    const r = await pruneStore({ store, indexes: [index] });
    expect(r.removed).toBeGreaterThan(0);
    expect(r.kept + r.removed).toBe(before);
    const out = join(dir, 'out.bin');
    await extractBlob({ index, store, output: out });
    expectSameBytes(await readFile(out), await readFile(input));
  });

  it('chopFile stores the chunks of a matching file and rejects a different one', async () => {
    const { input, index } = await made(2 * 1024 * 1024);
    const store2 = new LocalStore({ path: join(dir, 'store2') });
    const r = await chopFile({ index, input, store: store2 });
    expect(r.stored).toBeGreaterThan(0);
    const out = join(dir, 'out.bin');
    await extractBlob({ index, store: store2, output: out });
    expectSameBytes(await readFile(out), await readFile(input));
    const wrong = join(dir, 'wrong.bin');
    const data = await readFile(input);
    data[0] ^= 1;
    await writeFile(wrong, data);
    const err = await chopFile({
      index,
      input: wrong,
      store: new LocalStore({ path: join(dir, 's3') }),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DataMismatch);
    expect(err.message).toContain(index.id(0));
    expect(err.message).toContain('wrong.bin');
    const missing = await chopFile({ index, input: join(dir, 'nope'), store: store2 }).catch((e) => e);
    expect(missing).toBeInstanceOf(FileError);
    expect(missing.message).toContain('nope');
  });

  it('fillCache copies what the indexes need; a cache serves later reads', async () => {
    const { store, index, input } = await made(2 * 1024 * 1024);
    const cache = new LocalStore({ path: join(dir, 'cache') });
    const r = await fillCache({ store, cache, indexes: [index] });
    expect(r.fetched).toBe(r.chunks);
    const out = join(dir, 'out.bin');
    const empty = new LocalStore({ path: join(dir, 'empty') });
    await extractBlob({
      index,
      store: new CacheStore({ cache, backend: new StoreRouter([empty]) }),
      output: out,
    });
    expectSameBytes(await readFile(out), await readFile(input));
  });

  it('listFileChunks gives start, size and the id of each chunk', async () => {
    const input = join(dir, 'in.bin');
    await writeMixedFile(input, 1024 * 1024, 1);
    const data = await readFile(input);
    let pos = 0;
    for await (const c of listFileChunks({ input })) {
      expect(c.start).toBe(pos);
      expect(c.id).toBe(digestChunk(data.subarray(c.start, c.start + c.size)));
      pos += c.size;
    }
    expect(pos).toBe(data.length);
  });
});

describe('extractBlob batches', () => {
  // Small chunks put many chunks in each worker batch: runs written in one go, zero chunks
  // left as holes in the middle of a run, repeated chunks, and a corrupt chunk among them.
  const sizes = { min: 1024, avg: 4096, max: 16384 };

  it('writes files of random, zero and repeated pieces byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('random' as const), size: fc.integer({ min: 1, max: 40_000 }) }),
            fc.record({ kind: fc.constant('zero' as const), size: fc.integer({ min: 1, max: 40_000 }) }),
            fc.record({ kind: fc.constant('repeat' as const), size: fc.integer({ min: 1, max: 3 }) }),
          ),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (pieces, seed) => {
          const parts: Buffer[] = [];
          for (const [k, p] of pieces.entries()) {
            if (p.kind === 'random') parts.push(Buffer.from(randomBytes(p.size, seed + k)));
            else if (p.kind === 'zero') parts.push(Buffer.alloc(p.size));
            else if (parts.length > 0) parts.push(...parts.slice(-p.size));
          }
          const bytes = Buffer.concat(parts);
          const input = join(dir, `in-${seed}.bin`);
          await writeFile(input, bytes);
          const store = new LocalStore({ path: join(dir, 'batch-store') });
          const indexPath = join(dir, `in-${seed}.caibx`);
          await makeBlob({ input, indexPath, store, chunkSizes: sizes, concurrency: 2 });
          const out = join(dir, `out-${seed}.bin`);
          await extractBlob({ index: await readIndex(indexPath), store, output: out, workers: 2 });
          expectSameBytes(await readFile(out), bytes);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('fails with ChunkInvalid on a corrupt chunk amid a batch and leaves nothing', async () => {
    const input = join(dir, 'in.bin');
    await writeFile(input, Buffer.from(randomBytes(400_000, 3)));
    const store = new LocalStore({ path: join(dir, 'store') });
    const indexPath = join(dir, 'in.caibx');
    await makeBlob({ input, indexPath, store, chunkSizes: sizes });
    const index = await readIndex(indexPath);
    expect(index.length).toBeGreaterThan(40);
    // A valid frame of other bytes, in the place of a chunk in the middle of the first batch.
    const victim = index.id(10);
    const other = index.id(11);
    await writeFile(store.chunkPath(victim), await readFile(store.chunkPath(other)));
    const out = join(dir, 'out.bin');
    await expect(extractBlob({ index, store, output: out })).rejects.toBeInstanceOf(ChunkInvalid);
    expect(await outputsLeft()).toEqual([]);
  });
});

// A store that is no directory of chunk files to extract (as http, ssh and s3 are not): its
// chunks are fetched by the main thread and decompressed, verified and written by the workers.
function fetchedOnly(store: LocalStore): Store {
  return {
    getChunk: (id, options) => store.getChunk(id, options),
    hasChunk: (id) => store.hasChunk(id),
    close: async () => {},
    toString: () => 'fetched-only',
  };
}

describe('extract from a store the workers cannot read', () => {
  const fixed = { min: 16384, avg: 16384, max: 16384 };

  it('writes many chunks fetched at once byte for byte', async () => {
    const { store, index, input } = await made(3 * 1024 * 1024);
    const out = join(dir, 'out.bin');
    const r = await extractBlob({ index, store: fetchedOnly(store), output: out, concurrency: 16 });
    expect(r.fetchedChunks).toBeGreaterThan(20);
    expectSameBytes(await readFile(out), await readFile(input));
  });

  it('names what a wrong chunk holds: other bytes of the same size, or another size', async () => {
    const input = join(dir, 'in.bin');
    await writeFile(input, Buffer.from(randomBytes(16384 * 20 + 1000, 5)));
    const store = new LocalStore({ path: join(dir, 'store') });
    const indexPath = join(dir, 'in.caibx');
    await makeBlob({ input, indexPath, store, chunkSizes: fixed });
    const index = await readIndex(indexPath);
    const last = index.length - 1;
    const out = join(dir, 'out.bin');
    const failure = async (): Promise<ChunkInvalid> => {
      const err = await extractBlob({ index, store: fetchedOnly(store), output: out }).catch((e) => e);
      expect(err).toBeInstanceOf(ChunkInvalid);
      expect(await outputsLeft()).toEqual([]);
      return err as ChunkInvalid;
    };
    const frameOf = (k: number): Promise<Buffer> => readFile(store.chunkPath(index.id(k)));
    const [third, fourth, lastFrame] = await Promise.all([frameOf(3), frameOf(4), frameOf(last)]);
    // Each case with one chunk file replaced, the others as they were.
    const cases: [number, Uint8Array, string | RegExp][] = [
      [3, fourth, /^content hashes to [0-9a-f]{64}$/],
      [3, lastFrame, 'holds 1000 bytes, the index says 16384'],
      [last, third, 'holds 16384 bytes, the index says 1000'],
      [3, Buffer.from('not zstd'), 'not a valid zstd frame'],
    ];
    for (const [k, frame, reason] of cases) {
      const original = await frameOf(k);
      await writeFile(store.chunkPath(index.id(k)), frame);
      const err = await failure();
      if (typeof reason === 'string') expect(err.reason).toBe(reason);
      else expect(err.reason).toMatch(reason);
      await writeFile(store.chunkPath(index.id(k)), original);
    }
    await extractBlob({ index, store: fetchedOnly(store), output: out });
    expectSameBytes(await readFile(out), await readFile(input));
  });
});
