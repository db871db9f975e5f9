import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Chunk } from '../chunk.js';
import { type ChunkId, digestChunk } from '../chunk-id.js';
import { ChunkInvalid, ChunkMissing, InvalidArgument } from '../errors.js';
import {
  isPruneStore,
  isTouchStore,
  isWriteStore,
  type PruneStore,
  type Store,
  type WriteStore,
} from '../store.js';
import { loadCodec } from '../zstd-codec.js';
import { rawZstdFrame } from './raw-zstd-frame.js';

/**
 * How `describeStoreConformance` reaches one store adapter. Only `create` and `writable` are
 * required; each hook left out skips the tests that need it (they show as skipped).
 */
export interface StoreConformanceOptions<S extends Store = Store> {
  /** Opens a fresh, empty store; called once or more per test, never shared between tests. */
  create: () => Promise<S>;
  /**
   * True when `create` returns a WriteStore. False skips every write test; the read tests
   * then need `seed`.
   */
  writable: boolean;
  /**
   * Opens a store that holds exactly `chunks` (write their `compressedData()` as the stored
   * form). Required when `writable` is false; when given for a writable store, the read
   * tests fill stores with it instead of `storeChunk`.
   */
  seed?: (chunks: readonly Chunk[]) => Promise<S>;
  /** Removes what `create`/`seed` made (temp dirs, buckets); runs after each test, after close(). */
  cleanup?: (store: S) => Promise<void>;
  /**
   * Replaces the stored form of chunk `id` (already in `store`) with exactly `bytes`, as a
   * disk fault or a killed writer would leave it. Without it the corrupt-chunk tests skip.
   */
  corrupt?: (store: S, id: ChunkId, bytes: Uint8Array) => Promise<void>;
  /**
   * Puts entries that are not chunks where the backend keeps chunks: leftover temp files,
   * names that look almost like chunks, stray directories. listChunks must skip them.
   * Without it that test skips.
   */
  addNonChunkEntries?: (store: S) => Promise<void>;
  /**
   * Waits until earlier writes and removals show in hasChunk and listChunks, for eventually
   * consistent backends (restic's WaitForDelayedRemoval). Default: no wait.
   */
  settle?: (store: S) => Promise<void>;
  /** Leaves out the 1 MiB chunks for slow or metered backends (restic's MinimalData). Default false. */
  minimalData?: boolean;
  /** Operations run in parallel by the concurrency tests. Default 20. */
  concurrency?: number;
  /**
   * Strings the store's configuration holds that must never show in toString() or in error
   * messages: passwords, keys, tokens. Default none (URL user:password is checked always).
   */
  secrets?: readonly string[];
  /** Timeout of each test in milliseconds. Default: the vitest config's. */
  timeoutMs?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** A URL with a password in it, or a query parameter that carries a credential. */
const CREDENTIAL_PATTERNS = [
  /\/\/[^/\s@]*:[^/\s@]*@/,
  /[?&](access[-_]?key|secret|token|password|passwd|sig|signature|x-amz-credential)[^=&]*=/i,
];

function randomChunk(size: number): Chunk {
  return Chunk.fromPlain(randomBytes(size));
}

/**
 * Two distinct chunks whose ids share their first 4 hex digits, so layouts that group chunks
 * by prefix (casync's `<4 hex>/<id>.cacnk`) put them side by side. Found by counting: about
 * 300 tries on average (birthday bound over 65536 prefixes).
 */
function chunksSharingPrefix(): [Chunk, Chunk] {
  const seen = new Map<string, Uint8Array>();
  for (let i = 0; ; i++) {
    const data = new TextEncoder().encode(`desync conformance prefix ${i}`);
    const prefix = digestChunk(data).slice(0, 4);
    const earlier = seen.get(prefix);
    if (earlier) return [Chunk.fromPlain(earlier), Chunk.fromPlain(data)];
    seen.set(prefix, data);
  }
}

async function settled<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Reads a chunk the way every consumer does: getChunk, then its verified plain bytes. */
async function readPlain(store: Store, id: ChunkId): Promise<Uint8Array> {
  const chunk = await store.getChunk(id);
  expect(chunk.id).toBe(id);
  return chunk.plainData();
}

async function expectPlain(store: Store, chunk: Chunk): Promise<void> {
  expect(Buffer.from(await readPlain(store, chunk.id)).equals(await chunk.plainData())).toBe(true);
}

async function expectMissing(store: Store, id: ChunkId): Promise<void> {
  const err = await settled(store.getChunk(id));
  expect(err).toBeInstanceOf(ChunkMissing);
  expect((err as ChunkMissing).code).toBe('CHUNK_MISSING');
  expect((err as ChunkMissing).id).toBe(id);
}

async function expectInvalid(store: Store, id: ChunkId): Promise<void> {
  const err = await settled(readPlain(store, id));
  expect(err).toBeInstanceOf(ChunkInvalid);
  expect((err as ChunkInvalid).code).toBe('CHUNK_INVALID');
  expect((err as ChunkInvalid).id).toBe(id);
}

async function listAll(store: PruneStore, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.listChunks(signal)) ids.push(id);
  return ids.sort();
}

function sortedIds(chunks: readonly Chunk[]): string[] {
  return chunks.map((c) => c.id as string).sort();
}

/**
 * Defines the shared Store conformance tests (vitest) for one adapter: every `store-*`
 * package calls it from its own test file, then adds backend-specific cases.
 *
 * ```ts
 * describeStoreConformance('LocalStore', {
 *   create: async () => new LocalStore({ path: await tempDir() }),
 *   writable: true,
 * });
 * ```
 *
 * Write, prune and touch tests run when the store implements WriteStore, PruneStore and
 * TouchStore; the rest skip, so a test report shows what an adapter does not cover.
 */
export function describeStoreConformance<S extends Store>(
  name: string,
  options: StoreConformanceOptions<S>,
): void {
  if (!options.writable && !options.seed) {
    throw new InvalidArgument(
      `describeStoreConformance('${name}'): a read-only store needs the seed option to run the read tests`,
    );
  }
  const concurrency = options.concurrency ?? 20;
  const timeout = options.timeoutMs;
  const secrets = options.secrets ?? [];
  const sizes: [string, number][] = [
    ['0-byte', 0],
    ['1-byte', 1],
    ['256 KiB', 256 * KiB],
  ];
  if (!options.minimalData) sizes.push(['random 1 MiB', MiB], ['compressible 1 MiB', MiB]);

  const opened: S[] = [];
  const track = (store: S): S => {
    opened.push(store);
    return store;
  };

  afterEach(async () => {
    const stores = opened.splice(0);
    for (const store of stores) {
      await store.close();
      await options.cleanup?.(store);
    }
  });

  const createEmpty = async (): Promise<S> => track(await options.create());

  const createWritable = async (): Promise<S & WriteStore> => {
    const store = await createEmpty();
    if (!isWriteStore(store)) {
      throw new InvalidArgument(`${name}: writable is true, but the store create() gave has no storeChunk`);
    }
    return store;
  };

  /** A store holding `chunks`, filled by `seed` when given, else by storeChunk. */
  const createWith = async (chunks: readonly Chunk[]): Promise<S> => {
    if (options.seed) return track(await options.seed(chunks));
    const store = await createWritable();
    for (const chunk of chunks) await store.storeChunk(chunk);
    await options.settle?.(store);
    return store;
  };

  const sizedChunk = (label: string, size: number): Chunk =>
    label.startsWith('compressible') ? Chunk.fromPlain(new Uint8Array(size)) : randomChunk(size);

  describe(`${name} store conformance`, () => {
    describe('missing chunks', () => {
      it('getChunk rejects with ChunkMissing for a chunk an empty store does not hold', {
        timeout,
      }, async () => {
        const store = await createEmpty();
        const id = randomChunk(100).id;
        await expectMissing(store, id);
        const err = (await settled(store.getChunk(id))) as ChunkMissing;
        expect(err.store.length).toBeGreaterThan(0);
      });

      it('hasChunk is false for a chunk the store does not hold', { timeout }, async () => {
        const store = await createEmpty();
        expect(await store.hasChunk(randomChunk(100).id)).toBe(false);
      });

      it('a chunk whose id shares its prefix with a stored chunk is still missing', { timeout }, async () => {
        const [stored, absent] = chunksSharingPrefix();
        const store = await createWith([stored]);
        await expectMissing(store, absent.id);
        expect(await store.hasChunk(absent.id)).toBe(false);
        expect(await store.hasChunk(stored.id)).toBe(true);
      });
    });

    describe('reads', () => {
      it.each(sizes)('getChunk returns the id and bytes of a %s chunk', { timeout }, async (label, size) => {
        const chunk = sizedChunk(label, size);
        const store = await createWith([chunk]);
        expect(await store.hasChunk(chunk.id)).toBe(true);
        await expectPlain(store, chunk);
      });

      it('serves each of many chunks by its own id', { timeout }, async () => {
        const chunks = Array.from({ length: 12 }, (_, i) => randomChunk(1000 + i));
        const store = await createWith(chunks);
        for (const chunk of chunks) await expectPlain(store, chunk);
      });

      it('reads a chunk stored as a zstd frame without a declared content size', { timeout }, async () => {
        // casync's streaming writer leaves the size out of the frame header.
        const plain = randomBytes(300 * KiB);
        const id = digestChunk(plain);
        const chunk = Chunk.fromCompressed(id, rawZstdFrame(plain), { source: 'conformance' });
        const store = await createWith([chunk]);
        expect(Buffer.from(await readPlain(store, id)).equals(plain)).toBe(true);
      });

      it('does not trust a wrong expectedSize', { timeout }, async () => {
        const plain = randomBytes(200 * KiB);
        const id = digestChunk(plain);
        const store = await createWith([
          Chunk.fromCompressed(id, rawZstdFrame(plain), { source: 'conformance' }),
        ]);
        for (const expectedSize of [0, 1, plain.length - 1, plain.length * 10]) {
          const chunk = await store.getChunk(id, { expectedSize });
          expect(Buffer.from(await chunk.plainData()).equals(plain)).toBe(true);
        }
      });

      it(`${concurrency} concurrent gets of one chunk all succeed`, { timeout }, async () => {
        const chunk = randomChunk(64 * KiB);
        const store = await createWith([chunk]);
        await Promise.all(Array.from({ length: concurrency }, () => expectPlain(store, chunk)));
      });

      it(`${concurrency} concurrent gets of different chunks all succeed`, { timeout }, async () => {
        const chunks = Array.from({ length: concurrency }, () => randomChunk(16 * KiB));
        const store = await createWith(chunks);
        await Promise.all(chunks.map((chunk) => expectPlain(store, chunk)));
      });

      it("getChunk with an already-aborted signal rejects with the signal's reason", {
        timeout,
      }, async () => {
        const chunk = randomChunk(1000);
        const store = await createWith([chunk]);
        const reason = new Error('aborted by the conformance suite');
        await expect(store.getChunk(chunk.id, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        // The aborted read leaves the store usable.
        await expectPlain(store, chunk);
      });
    });

    describe.skipIf(!options.writable)('writes', () => {
      it('create() returns a store with storeChunk', { timeout }, async () => {
        expect(isWriteStore(await createEmpty())).toBe(true);
      });

      it.each(sizes)('storeChunk then getChunk round-trips a %s chunk', { timeout }, async (label, size) => {
        const store = await createWritable();
        const chunk = sizedChunk(label, size);
        await store.storeChunk(chunk);
        await options.settle?.(store);
        expect(await store.hasChunk(chunk.id)).toBe(true);
        await expectPlain(store, chunk);
      });

      it('stores a chunk given in compressed form (as read from another store)', { timeout }, async () => {
        const plain = randomBytes(150 * KiB);
        const id = digestChunk(plain);
        const store = await createWritable();
        await store.storeChunk(Chunk.fromCompressed(id, rawZstdFrame(plain), { source: 'another store' }));
        expect(Buffer.from(await readPlain(store, id)).equals(plain)).toBe(true);
      });

      it('storing a chunk twice is idempotent', { timeout }, async () => {
        const store = await createWritable();
        const chunk = randomChunk(10 * KiB);
        await store.storeChunk(chunk);
        await store.storeChunk(chunk);
        await store.storeChunk(Chunk.fromPlain(await chunk.plainData()));
        await options.settle?.(store);
        await expectPlain(store, chunk);
        if (isPruneStore(store)) expect(await listAll(store)).toEqual([chunk.id]);
      });

      it(`${concurrency} concurrent stores of one chunk all succeed and leave one valid chunk`, {
        timeout,
      }, async () => {
        const store = await createWritable();
        const chunk = randomChunk(256 * KiB);
        const plain = await chunk.plainData();
        // Half share one Chunk object, half bring their own, as parallel downloads would.
        await Promise.all(
          Array.from({ length: concurrency }, (_, i) =>
            store.storeChunk(i % 2 === 0 ? chunk : Chunk.fromPlain(plain, chunk.id)),
          ),
        );
        await options.settle?.(store);
        await expectPlain(store, chunk);
        if (isPruneStore(store)) expect(await listAll(store)).toEqual([chunk.id]);
      });

      it('concurrent stores of different chunks that share an id prefix all succeed', {
        timeout,
      }, async () => {
        const store = await createWritable();
        const pair = chunksSharingPrefix();
        await Promise.all(Array.from({ length: concurrency }, (_, i) => store.storeChunk(pair[i % 2])));
        await options.settle?.(store);
        for (const chunk of pair) await expectPlain(store, chunk);
      });

      it('readers racing a writer see the chunk missing or whole, never partial', { timeout }, async () => {
        const store = await createWritable();
        const chunk = randomChunk(options.minimalData ? 256 * KiB : 2 * MiB);
        let done = false;
        const write = store.storeChunk(chunk).finally(() => {
          done = true;
        });
        const read = async (): Promise<void> => {
          while (!done) {
            try {
              await expectPlain(store, chunk);
            } catch (err) {
              if (!(err instanceof ChunkMissing)) throw err;
            }
            // Lets the writer's I/O callbacks run even when the store answers in microtasks.
            await new Promise((resolve) => setImmediate(resolve));
          }
        };
        await Promise.all([write, read(), read()]);
        await options.settle?.(store);
        await expectPlain(store, chunk);
      });
    });

    describe.skipIf(!options.corrupt)('corrupt chunks', () => {
      const corruptWith = async (bytes: (frame: Uint8Array) => Uint8Array | Promise<Uint8Array>) => {
        const chunk = randomChunk(20 * KiB);
        const neighbour = randomChunk(20 * KiB);
        const store = await createWith([chunk, neighbour]);
        await options.corrupt!(store, chunk.id, await bytes(await chunk.compressedData()));
        await expectInvalid(store, chunk.id);
        await expectPlain(store, neighbour);
      };

      it('rejects with ChunkInvalid when the stored bytes are garbage', { timeout }, async () => {
        await corruptWith(() => randomBytes(4096));
      });

      it('rejects with ChunkInvalid when the stored bytes are a valid zstd frame of other content', {
        timeout,
      }, async () => {
        const codec = await loadCodec();
        await corruptWith(() => codec.compress(randomBytes(20 * KiB)));
      });

      it('rejects with ChunkInvalid when the stored bytes are empty (a write cut short)', {
        timeout,
      }, async () => {
        await corruptWith(() => new Uint8Array(0));
      });

      it('rejects with ChunkInvalid when the stored frame is truncated', { timeout }, async () => {
        await corruptWith((frame) => frame.subarray(0, Math.floor(frame.length / 2)));
      });

      it('rejects with ChunkInvalid when one byte of the stored frame is flipped', { timeout }, async () => {
        await corruptWith((frame) => {
          const copy = Uint8Array.from(frame);
          copy[copy.length >> 1] ^= 0x01;
          return copy;
        });
      });
    });

    describe('listing and removal (PruneStore)', () => {
      const createPrunable = async (
        skip: (note?: string) => never,
        chunks: readonly Chunk[] = [],
      ): Promise<S & PruneStore> => {
        if (!options.writable) skip('read-only store');
        const store = await createWritable();
        if (!isPruneStore(store)) skip('not a PruneStore');
        for (const chunk of chunks) await store.storeChunk(chunk);
        await options.settle?.(store);
        return store;
      };

      it('listChunks of an empty store yields nothing', { timeout }, async ({ skip }) => {
        const store = await createPrunable(skip);
        expect(await listAll(store)).toEqual([]);
      });

      it('listChunks yields exactly the stored ids, once each', { timeout }, async ({ skip }) => {
        const chunks = [...chunksSharingPrefix(), randomChunk(0), randomChunk(1), randomChunk(5000)];
        const store = await createPrunable(skip, chunks);
        expect(await listAll(store)).toEqual(sortedIds(chunks));
      });

      it.skipIf(!options.addNonChunkEntries)(
        'listChunks skips entries that are not chunks',
        { timeout },
        async ({ skip }) => {
          const chunks = [randomChunk(100), randomChunk(200)];
          const store = await createPrunable(skip, chunks);
          await options.addNonChunkEntries!(store);
          await options.settle?.(store);
          expect(await listAll(store)).toEqual(sortedIds(chunks));
          for (const chunk of chunks) await expectPlain(store, chunk);
        },
      );

      it("listChunks with an already-aborted signal rejects with the signal's reason", { timeout }, async ({
        skip,
      }) => {
        const store = await createPrunable(skip, [randomChunk(100)]);
        const reason = new Error('aborted by the conformance suite');
        await expect(listAll(store, AbortSignal.abort(reason))).rejects.toBe(reason);
      });

      it("listChunks aborted after the first id rejects with the signal's reason", { timeout }, async ({
        skip,
      }) => {
        const store = await createPrunable(skip, [randomChunk(100), randomChunk(200), randomChunk(300)]);
        const controller = new AbortController();
        const reason = new Error('aborted by the conformance suite');
        const iterator = store.listChunks(controller.signal)[Symbol.asyncIterator]();
        const first = await iterator.next();
        expect(first.done).toBe(false);
        controller.abort(reason);
        const rest = async (): Promise<void> => {
          while (!(await iterator.next()).done) {
            // Draining: the next step must notice the abort.
          }
        };
        await expect(rest()).rejects.toBe(reason);
      });

      it('removeChunk removes the chunk and only it', { timeout }, async ({ skip }) => {
        const [gone, kept] = chunksSharingPrefix();
        const store = await createPrunable(skip, [gone, kept]);
        await store.removeChunk(gone.id);
        await options.settle?.(store);
        await expectMissing(store, gone.id);
        expect(await store.hasChunk(gone.id)).toBe(false);
        expect(await listAll(store)).toEqual([kept.id]);
        await expectPlain(store, kept);
      });

      it('removing a missing chunk rejects with ChunkMissing', { timeout }, async ({ skip }) => {
        const store = await createPrunable(skip, [randomChunk(100)]);
        const id = randomChunk(100).id;
        const err = await settled(store.removeChunk(id));
        expect(err).toBeInstanceOf(ChunkMissing);
        expect((err as ChunkMissing).code).toBe('CHUNK_MISSING');
      });

      it('a removed chunk can be stored again', { timeout }, async ({ skip }) => {
        const chunk = randomChunk(3000);
        const store = await createPrunable(skip, [chunk]);
        await store.removeChunk(chunk.id);
        await options.settle?.(store);
        await store.storeChunk(chunk);
        await options.settle?.(store);
        await expectPlain(store, chunk);
      });

      it('concurrent removals of one chunk fail with nothing but ChunkMissing', { timeout }, async ({
        skip,
      }) => {
        const chunk = randomChunk(3000);
        const store = await createPrunable(skip, [chunk]);
        const results = await Promise.all(
          Array.from({ length: concurrency }, () => settled(store.removeChunk(chunk.id))),
        );
        for (const err of results) if (err !== undefined) expect(err).toBeInstanceOf(ChunkMissing);
        await options.settle?.(store);
        await expectMissing(store, chunk.id);
      });
    });

    describe('touch (TouchStore)', () => {
      it('touchChunk succeeds on a stored chunk, which stays readable', { timeout }, async ({ skip }) => {
        const chunk = randomChunk(1000);
        const store = await createWith([chunk]);
        if (!isTouchStore(store)) return skip('not a TouchStore');
        await store.touchChunk(chunk.id);
        await store.touchChunk(chunk.id);
        await expectPlain(store, chunk);
      });

      it('touchChunk of a missing chunk rejects with ChunkMissing', { timeout }, async ({ skip }) => {
        const store = await createEmpty();
        if (!isTouchStore(store)) return skip('not a TouchStore');
        const err = await settled(store.touchChunk(randomChunk(100).id));
        expect(err).toBeInstanceOf(ChunkMissing);
      });
    });

    describe('lifecycle', () => {
      it('close() may be called twice, also on a store never used', { timeout }, async () => {
        const unused = await createEmpty();
        await unused.close();
        await unused.close();
        const chunk = randomChunk(100);
        const used = await createWith([chunk]);
        await expectPlain(used, chunk);
        await used.close();
        await used.close();
      });

      it('toString() names the store and holds no credentials', { timeout }, async () => {
        const store = await createEmpty();
        const text = store.toString();
        expect(text.trim().length).toBeGreaterThan(0);
        expect(text).not.toContain('[object');
        for (const pattern of CREDENTIAL_PATTERNS) expect(text).not.toMatch(pattern);
        for (const secret of secrets) expect(text).not.toContain(secret);
      });

      it('error messages hold no credentials', { timeout }, async () => {
        const store = await createEmpty();
        const err = (await settled(store.getChunk(randomChunk(100).id))) as Error;
        expect(err).toBeInstanceOf(ChunkMissing);
        for (const pattern of CREDENTIAL_PATTERNS) expect(err.message).not.toMatch(pattern);
        for (const secret of secrets) expect(err.message).not.toContain(secret);
      });
    });
  });
}
