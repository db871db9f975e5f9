import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  Chunk,
  type ChunkId,
  ChunkMissing,
  digestChunk,
  InvalidArgument,
  isChunkId,
  loadCodec,
  StoreError,
} from '@desync/core';
import { describeStoreConformance } from '@desync/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStore, localStoreScheme } from '../src/index.js';
import { readCaibx } from './read-caibx.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const KiB = 1024;
const MiB = 1024 * KiB;

const made: string[] = [];

/** A new empty temp directory, removed after the tests. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desync-store-local-'));
  made.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

async function listAll(store: LocalStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.listChunks()) ids.push(id);
  return ids.sort();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describeStoreConformance<LocalStore>('LocalStore', {
  // A store directory that does not exist yet: reads must treat it as empty, and the first
  // write must create it.
  create: async () => new LocalStore({ path: join(await tempDir(), 'store') }),
  writable: true,
  cleanup: (store) => rm(dirname(store.path), { recursive: true, force: true }),
  corrupt: (store, id, bytes) => writeFile(store.chunkPath(id), bytes),
  addNonChunkEntries: async (store) => {
    // A prefix with a letter, so its uppercase form names another directory, and not ffff,
    // so the misplaced copy below really is misplaced.
    let id = digestChunk(randomBytes(8));
    while (!/[a-f]/.test(id.slice(0, 4)) || id.startsWith('ffff')) id = digestChunk(randomBytes(8));
    const elsewhere = `ffff${id.slice(4)}`;
    const prefix = id.slice(0, 4);
    const junk = 'not a chunk';
    await mkdir(join(store.path, prefix, `${id}.cacnk`), { recursive: true });
    await mkdir(join(store.path, 'zzzz'), { recursive: true });
    await mkdir(join(store.path, prefix.toUpperCase()), { recursive: true });
    await mkdir(join(store.path, `${prefix}0`), { recursive: true });
    await writeFile(join(store.path, 'README'), junk);
    await writeFile(join(store.path, `${id}.cacnk`), junk);
    await writeFile(join(store.path, 'zzzz', `${id}.cacnk`), junk);
    await writeFile(join(store.path, prefix.toUpperCase(), `${id}.cacnk`), junk);
    await writeFile(join(store.path, `${prefix}0`, `${id}.cacnk`), junk);
    await writeFile(join(store.path, prefix, `.${id}.cacnk.4242.0123456789ab.tmp`), junk);
    await writeFile(join(store.path, prefix, `${id}.cacnk.tmp`), junk);
    await writeFile(join(store.path, prefix, `${id.toUpperCase()}.cacnk`), junk);
    await writeFile(join(store.path, prefix, `${id.slice(1)}.cacnk`), junk);
    await writeFile(join(store.path, prefix, `${elsewhere}.cacnk`), junk);
    await writeFile(join(store.path, prefix, id), junk);
  },
});

describeStoreConformance<LocalStore>('LocalStore (uncompressed)', {
  create: async () => new LocalStore({ path: join(await tempDir(), 'store'), uncompressed: true }),
  writable: true,
  cleanup: (store) => rm(dirname(store.path), { recursive: true, force: true }),
  corrupt: (store, id, bytes) => writeFile(store.chunkPath(id), bytes),
  addNonChunkEntries: async (store) => {
    const id = digestChunk(randomBytes(8));
    const prefix = id.slice(0, 4);
    await mkdir(join(store.path, prefix), { recursive: true });
    // Compressed chunk files and temp files are not chunks of an uncompressed store.
    await writeFile(join(store.path, prefix, `${id}.cacnk`), 'frame');
    await writeFile(join(store.path, prefix, `.${id}.4242.0123456789ab.tmp`), 'tmp');
    await writeFile(join(store.path, prefix, id.toUpperCase()), 'upper');
  },
});

describe('LocalStore on disk', () => {
  it.each(['/', '/srv/store', '/srv/store/', 'rel', './rel/', 'a//b/../c', '.', '..', '../up'])(
    'names chunk files as path.join would, for a store at %s',
    (path) => {
      const id = 'ab12'.padEnd(64, '0') as ChunkId;
      expect(new LocalStore({ path }).chunkPath(id)).toBe(join(path, 'ab12', `${id}.cacnk`));
      expect(new LocalStore({ path, uncompressed: true }).chunkPath(id)).toBe(join(path, 'ab12', id));
    },
  );

  it("stores a chunk in casync's layout: <store>/<first 4 hex>/<id>.cacnk, a zstd frame", async () => {
    const path = await tempDir();
    const store = new LocalStore({ path });
    const plain = randomBytes(100 * KiB);
    const chunk = Chunk.fromPlain(plain);
    await store.storeChunk(chunk);
    const prefix = chunk.id.slice(0, 4);
    expect(await filesUnder(path)).toEqual([join(prefix, `${chunk.id}.cacnk`)]);
    expect(store.chunkPath(chunk.id)).toBe(join(path, prefix, `${chunk.id}.cacnk`));
    const frame = await readFile(join(path, prefix, `${chunk.id}.cacnk`));
    const codec = await loadCodec();
    expect(Buffer.from(codec.decompress(frame, MiB)).equals(plain)).toBe(true);
  });

  it('reads a missing store directory as empty and creates it, with its parents, on the first write', async () => {
    const path = join(await tempDir(), 'a', 'b', 'store');
    const store = new LocalStore({ path });
    const chunk = Chunk.fromPlain(randomBytes(100));
    expect(await rejection(store.getChunk(chunk.id))).toBeInstanceOf(ChunkMissing);
    expect(await store.hasChunk(chunk.id)).toBe(false);
    expect(await listAll(store)).toEqual([]);
    expect(existsSync(path)).toBe(false);
    await store.storeChunk(chunk);
    expect((await stat(path)).isDirectory()).toBe(true);
    expect(await listAll(store)).toEqual([chunk.id]);
  });

  it('names the missing chunk and the store directory in ChunkMissing', async () => {
    const path = await tempDir();
    const id = digestChunk(randomBytes(10));
    const err = (await rejection(new LocalStore({ path }).getChunk(id))) as ChunkMissing;
    expect(err.store).toBe(path);
    expect(err.message).toContain(id);
    expect(err.message).toContain(path);
  });

  it('leaves no temp files behind after many concurrent writes', async () => {
    const path = await tempDir();
    const store = new LocalStore({ path });
    const chunks = Array.from({ length: 40 }, (_, i) => Chunk.fromPlain(randomBytes(1000 + i)));
    await Promise.all([...chunks, ...chunks].map((c) => store.storeChunk(c)));
    const files = await filesUnder(path);
    expect(files).toHaveLength(chunks.length);
    expect(files.every((f) => f.endsWith('.cacnk') && !f.includes('.tmp'))).toBe(true);
  });

  it('never shows a partial file at the chunk path while writing', async () => {
    const path = await tempDir();
    const store = new LocalStore({ path });
    const chunk = Chunk.fromPlain(randomBytes(8 * MiB));
    const frame = Buffer.from(await chunk.compressedData());
    let done = false;
    const write = store.storeChunk(chunk).finally(() => {
      done = true;
    });
    const poll = async (): Promise<void> => {
      while (!done) {
        try {
          const bytes = await readFile(store.chunkPath(chunk.id));
          expect(bytes.equals(frame)).toBe(true);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    };
    await Promise.all([write, poll(), poll()]);
    expect((await readFile(store.chunkPath(chunk.id))).equals(frame)).toBe(true);
  });

  it('ignores the temp file a killed writer left, and still stores the chunk', async () => {
    const path = await tempDir();
    const store = new LocalStore({ path });
    const chunk = Chunk.fromPlain(randomBytes(50 * KiB));
    const frame = await chunk.compressedData();
    const leftover = join(path, chunk.id.slice(0, 4), `.${chunk.id}.cacnk.99999.deadbeef0000.tmp`);
    await mkdir(dirname(leftover), { recursive: true });
    await writeFile(leftover, frame.subarray(0, frame.length >> 1));
    expect(await listAll(store)).toEqual([]);
    expect(await rejection(store.getChunk(chunk.id))).toBeInstanceOf(ChunkMissing);
    await store.storeChunk(chunk);
    expect(await listAll(store)).toEqual([chunk.id]);
    expect(
      Buffer.from(await (await store.getChunk(chunk.id)).plainData()).equals(await chunk.plainData()),
    ).toBe(true);
  });

  it('does not rewrite a chunk that is there already', async () => {
    const store = new LocalStore({ path: await tempDir() });
    const chunk = Chunk.fromPlain(randomBytes(1000));
    await store.storeChunk(chunk);
    const file = store.chunkPath(chunk.id);
    const old = new Date('2001-02-03T04:05:06Z');
    await utimes(file, old, old);
    const before = await stat(file);
    await store.storeChunk(chunk);
    const after = await stat(file);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(old.getTime());
  });

  it('touchChunk sets the chunk file mtime to now', async () => {
    const store = new LocalStore({ path: await tempDir() });
    const chunk = Chunk.fromPlain(randomBytes(1000));
    await store.storeChunk(chunk);
    const file = store.chunkPath(chunk.id);
    const old = new Date('2001-02-03T04:05:06Z');
    await utimes(file, old, old);
    const start = Date.now();
    await store.touchChunk(chunk.id);
    expect((await stat(file)).mtimeMs).toBeGreaterThanOrEqual(start - 2000);
  });

  it('reports a store path that is a file as StoreError naming the path and the reason', async () => {
    const path = join(await tempDir(), 'not-a-dir');
    await writeFile(path, 'x');
    const store = new LocalStore({ path });
    const chunk = Chunk.fromPlain(randomBytes(100));
    const failures = [
      rejection(store.getChunk(chunk.id)),
      rejection(store.hasChunk(chunk.id)),
      rejection(store.storeChunk(chunk)),
      rejection(listAll(store)),
      rejection(store.touchChunk(chunk.id)),
      rejection(store.removeChunk(chunk.id)),
    ];
    for (const err of await Promise.all(failures)) {
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('STORE_ERROR');
      expect((err as StoreError).store).toBe(path);
      expect((err as StoreError).message).toContain(path);
      expect((err as StoreError).cause).toBeDefined();
    }
    expect(((await failures[0]) as StoreError).reason).toContain('not a directory');
  });

  it('reports a directory where a chunk file should be as StoreError', async () => {
    const store = new LocalStore({ path: await tempDir() });
    const chunk = Chunk.fromPlain(randomBytes(100));
    await mkdir(store.chunkPath(chunk.id), { recursive: true });
    const err = (await rejection(store.getChunk(chunk.id))) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.reason).toContain('is a directory');
    expect(await store.hasChunk(chunk.id)).toBe(false);
    expect(await rejection(store.storeChunk(chunk))).toBeInstanceOf(StoreError);
    expect(await filesUnder(store.path)).toEqual([]);
  });

  it('refuses an id that is not a chunk id, so no path outside the store is touched', async () => {
    const store = new LocalStore({ path: await tempDir() });
    for (const id of ['../../etc/passwd', 'ABCD'.repeat(16), `${'a'.repeat(63)}/`] as ChunkId[]) {
      expect(await rejection(store.getChunk(id))).toBeInstanceOf(InvalidArgument);
      expect(await rejection(store.hasChunk(id))).toBeInstanceOf(InvalidArgument);
      expect(await rejection(store.removeChunk(id))).toBeInstanceOf(InvalidArgument);
      expect(await rejection(store.touchChunk(id))).toBeInstanceOf(InvalidArgument);
    }
  });

  it('refuses an empty path with InvalidArgument', () => {
    expect(() => new LocalStore({ path: '' })).toThrow(InvalidArgument);
  });
});

/** Deterministic chunk data shared by the writer processes: AES-CTR keystream of key `i`. */
function writerData(i: number): Uint8Array {
  return createCipheriv('aes-128-ctr', Buffer.alloc(16, i), Buffer.alloc(16)).update(
    Buffer.alloc(64 * KiB + i * 37 * KiB),
  );
}

// Runs in a separate Node process: argv holds the module URLs, the store path, the chunk
// count and the time to start at, so both writers hit the same chunks at the same moment.
const WRITER = `
const [storeUrl, coreUrl, path, count, startAt] = process.argv.slice(1);
const { LocalStore } = await import(storeUrl);
const { Chunk } = await import(coreUrl);
const { createCipheriv } = await import('node:crypto');
const data = (i) => createCipheriv('aes-128-ctr', Buffer.alloc(16, i), Buffer.alloc(16)).update(Buffer.alloc(64 * 1024 + i * 37 * 1024));
const chunks = Array.from({ length: Number(count) }, (_, i) => Chunk.fromPlain(data(i)));
await Promise.all(chunks.map((c) => c.compressedData()));
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1));
const store = new LocalStore({ path });
await Promise.all(chunks.map((c) => store.storeChunk(c)));
`;

describe('LocalStore shared between processes', () => {
  it('two processes writing the same chunks at once leave every chunk valid', async () => {
    const built = join(here, '..', 'dist', 'index.js');
    expect(existsSync(built), 'build store-local first: pnpm -F @desync/store-local build').toBe(true);
    const core = createRequire(import.meta.url).resolve('@desync/core');
    const path = join(await tempDir(), 'shared-store');
    const count = 24;
    const startAt = Date.now() + 1500;
    const run = promisify(execFile);
    const args = [pathToFileURL(built).href, pathToFileURL(core).href, path, String(count), String(startAt)];
    await Promise.all([
      run(process.execPath, ['--input-type=module', '-e', WRITER, ...args]),
      run(process.execPath, ['--input-type=module', '-e', WRITER, ...args]),
    ]);
    const expected = Array.from({ length: count }, (_, i) => Chunk.fromPlain(writerData(i)));
    const store = new LocalStore({ path });
    expect(await listAll(store)).toEqual(expected.map((c) => c.id as string).sort());
    for (const chunk of expected) {
      const plain = await (await store.getChunk(chunk.id)).plainData();
      expect(Buffer.from(plain).equals(await chunk.plainData())).toBe(true);
    }
    expect((await filesUnder(path)).filter((f) => !f.endsWith('.cacnk'))).toEqual([]);
  });
});

describe('LocalStore reading a store desync made (fixtures/blob1.store)', () => {
  const store = new LocalStore({ path: join(fixtures, 'blob1.store') });

  it('reads back and verifies every chunk file in the store', async () => {
    const files = await filesUnder(store.path);
    expect(files).toHaveLength(131);
    for (const file of files) {
      const id = file.slice(5, -'.cacnk'.length) as ChunkId;
      expect(isChunkId(id)).toBe(true);
      expect(file).toBe(join(id.slice(0, 4), `${id}.cacnk`));
      const plain = await (await store.getChunk(id)).plainData();
      expect(digestChunk(plain)).toBe(id);
    }
  });

  it('lists exactly the chunks the index refers to', async () => {
    const index = readCaibx(await readFile(join(fixtures, 'blob1.caibx')));
    expect(await listAll(store)).toEqual([...new Set(index.map((e) => e.id as string))].sort());
  });

  it('reassembles blob1 from its index', async () => {
    const index = readCaibx(await readFile(join(fixtures, 'blob1.caibx')));
    const blob = await readFile(join(fixtures, 'blob1'));
    expect(index.at(-1)?.end).toBe(blob.length);
    for (const { id, start, end } of index) {
      const plain = await (await store.getChunk(id, { expectedSize: end - start })).plainData();
      expect(Buffer.from(plain).equals(blob.subarray(start, end))).toBe(true);
    }
  });
});

describe('localStoreScheme', () => {
  it.each([
    'store',
    './store',
    '../stores/a',
    '/srv/store',
    '/srv/with:colon',
    './host:path',
    'file:///srv/store',
    'file://localhost/srv/store',
  ])('handles %s', (location) => {
    expect(localStoreScheme.matches(location)).toBe(true);
  });

  it.each([
    'http://host/store',
    'https://host/store',
    'ssh://host/srv/store',
    'sftp://host/srv/store',
    's3+http://host/bucket',
    's3+https://host:9000/bucket/prefix',
    'host:/srv/store',
    'user@host:/srv/store',
    'host:store',
    '',
  ])('leaves %s to other adapters', (location) => {
    expect(localStoreScheme.matches(location)).toBe(false);
  });

  it('opens a LocalStore on the path, taking file URLs apart', async () => {
    const plain = await localStoreScheme.open('/srv/store', {});
    expect(plain).toBeInstanceOf(LocalStore);
    expect(plain.toString()).toBe('/srv/store');
    expect((await localStoreScheme.open('file:///srv/my%20store', {})).toString()).toBe('/srv/my store');
    expect((await localStoreScheme.open('file://localhost/srv/store', {})).toString()).toBe('/srv/store');
  });

  it('refuses a file URL naming another host with InvalidArgument', () => {
    expect(() => localStoreScheme.open('file://otherhost/srv/store', {})).toThrow(InvalidArgument);
  });
});
